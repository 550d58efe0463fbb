"""Multipart forms read so that no upload's temporary file outlives its request.

Starlette's parser opens a temporary file for a file part as soon as the part's headers
end. A body cut off inside that part (a client that hangs up, a hostile body) parses
without error, leaves the part out of the form, and leaves its file open until the
garbage collector finds it (found by `make fuzz`). Here every file the parser opened and
the form does not hold is closed at once, and the form is kept on the request, whose
`close()` (GraphQLView.run) closes the rest.
"""

from __future__ import annotations

from contextlib import aclosing

from cross_web.request._base import FormData
from starlette.datastructures import FormData as StarletteForm
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from strawberry.asgi import GraphQL

__all__ = ["ClosingMultiPartParser", "UploadRequestAdapter"]

StarletteRequestAdapter = GraphQL.request_adapter_class


class ClosingMultiPartParser(MultiPartParser):
    async def parse(self) -> StarletteForm:
        form = await super().parse()
        kept = {id(value.file) for _, value in form.multi_items() if isinstance(value, UploadFile)}
        for file in self._files_to_close_on_error:
            if id(file) not in kept:
                file.close()  # the part a cut-off body never finished
        return form


class UploadRequestAdapter(StarletteRequestAdapter):  # type: ignore[misc,valid-type]
    async def get_form_data(self) -> FormData:
        request = self._request
        if request._form is None:  # Starlette's cache of the form, closed by request.close()
            async with aclosing(request.stream()) as stream:
                parser = ClosingMultiPartParser(request.headers, stream)
                try:
                    request._form = await parser.parse()
                except MultiPartException as error:
                    raise ValueError(error.message) from error  # Strawberry answers 400
        return FormData(files=request._form, form=request._form)
