"""Media for the Mutation root: uploadMedia (authors and up).

Files arrive per the GraphQL multipart request spec (Strawberry's `Upload` scalar; a
Starlette UploadFile at run time). Thin: read the upload, call cms.media.service.upload,
map the result.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from cms.auth import policy
from cms.errors import Invalid
from cms.media import service
from cms.media.storage import LocalStorage
from schema.context import Info
from schema.errors import as_result
from schema.permissions import require
from schema.types.errors import ConflictError, NotFoundError, ValidationError
from schema.types.media import Media

__all__ = ["MediaMutation", "MediaResult"]

MediaResult = Annotated[
    Media | ValidationError | NotFoundError | ConflictError, strawberry.union("MediaResult")
]


async def _read(file: object) -> tuple[bytes, str | None]:
    """The upload's bytes, at most one more than the limit (enough to refuse it)."""
    if not isinstance(file, UploadFile):
        raise Invalid("send the file as a multipart upload (the `Upload` scalar)", field="file")
    return await file.read(service.MAX_BYTES + 1), file.filename


@strawberry.type
class MediaMutation:
    @strawberry.mutation(
        description=(
            "Store a JPEG, PNG, GIF or WebP image (at most 20 MB and 50 megapixels), sent "
            "per the GraphQL multipart request spec. The same bytes are stored once: "
            "uploading them again returns the Media that already has them, unchanged."
        ),
        extensions=require(policy.Action.UPLOAD_MEDIA),
    )
    async def upload_media(
        self,
        info: Info,
        file: Upload,
        alt_text: str | None = None,
        caption: str | None = None,
        credit: str | None = None,
    ) -> MediaResult:
        async def work() -> Media:
            data, filename = await _read(file)
            record = await service.upload(
                viewer=info.context.viewer,
                storage=LocalStorage(info.context.settings.media_dir),
                data=data,
                filename=filename,
                alt_text=alt_text,
                caption=caption,
                credit=credit,
            )
            media = Media.from_record(record, info.context.links)
            assert media is not None
            return media

        return await as_result(work(), ValidationError, NotFoundError, ConflictError)
