from datetime import UTC, datetime, timedelta, timezone
import json
from tortoise import Tortoise
from cms import clock
from cms.content import visibility
from cms.models import Content
from tests import factories as f

Q = "{ feed(first: 5) { edges { cursor node { __typename id title slug url locale publishedAt status heroImage { id url } tags { id slug } authors { id name kind avatar { id url } } section { id name } ... on Article { readingTimeMinutes body(format: TEXT) } ... on VideoEpisode { videoUrl durationSeconds show } } } pageInfo { hasNextPage endCursor } } }"

async def test_x(client, settings):
    s = await f.make_section()
    a = await f.make_author(avatar=True)
    now = clock.utcnow()
    await f.make_article(section=s, authors=[a], tags=["x", "y"], hero_image=True, published_at=now - timedelta(hours=1))
    await f.make_video_episode(published_at=now - timedelta(hours=2))
    r = await client.post("/graphql", json={"query": Q})
    print(json.dumps(r.json(), indent=1))
    conn = Tortoise.get_connection("default")
    print(await conn.execute_query_dict("select id, published_at, updated_at from content"))
    tz = timezone(timedelta(hours=2))
    t = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    c = await f.make_article(title="b", published_at=t)
    print(await conn.execute_query_dict("select id, published_at from content"))
    print(await Content.filter(visibility.public_q(t.astimezone(tz))).values_list("id", flat=True))
    print(await Content.filter(visibility.public_q(t)).values_list("id", flat=True))
    r = await client.post("/graphql", json={"query": "{ feed(first: 1, after: \"garbage\") { edges { cursor } } }"})
    print(r.json())
    r = await client.post("/graphql", json={"query": "{ feed(first: 101) { edges { cursor } } }"})
    print(r.json())
