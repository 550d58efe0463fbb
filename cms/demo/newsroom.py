"""The demo newsroom: a war news desk's feed of short updates, two reporters and a weekly
video show. Plain data only; `cms seed --demo` turns it into rows.

Times are relative (`published_minutes_ago`) so the demo feed always looks fresh. Media keys
name the SVG files shipped beside this module: "demo/news-desk.svg" is `media/news-desk.svg`.
"""

from __future__ import annotations

from typing import Final, Literal, TypedDict

__all__ = [
    "ARTICLES",
    "AUTHORS",
    "MEDIA",
    "SECTIONS",
    "TAGS",
    "TRANSLATIONS",
    "VIDEO_EPISODES",
]


class SectionData(TypedDict):
    name: str
    slug: str


class TagData(TypedDict):
    name: str
    slug: str


class MediaData(TypedDict):
    key: str
    mime_type: str
    width: int
    height: int
    alt_text: str
    caption: str | None
    credit: str | None


class AuthorData(TypedDict):
    name: str
    slug: str
    kind: Literal["desk", "person"]
    bio: str
    email: str
    avatar_key: str | None


class ArticleData(TypedDict):
    title: str
    slug: str
    dek: str
    body: str
    section_slug: str
    author_slugs: list[str]
    tag_slugs: list[str]
    hero_image_key: str | None
    published_minutes_ago: int


class VideoEpisodeData(TypedDict):
    title: str
    slug: str
    dek: str
    description: str
    video_url: str
    duration_seconds: int
    show: str
    episode_number: int
    section_slug: str
    author_slugs: list[str]
    tag_slugs: list[str]
    hero_image_key: str | None
    published_minutes_ago: int


class TranslationData(TypedDict):
    """An article told again in another locale: it joins the story of `of_slug`'s article
    and shares its section, bylines, tags and image."""

    of_slug: str
    locale: str
    title: str
    slug: str
    dek: str
    body: str
    published_minutes_ago: int


def _markdown(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)


_SHOW: Final = "Newsroom Weekly"

SECTIONS: Final[list[SectionData]] = [
    {"name": "War", "slug": "war"},
    {"name": "Politics", "slug": "politics"},
    {"name": "Business", "slug": "business"},
    {"name": "Video", "slug": "video"},
]

TAGS: Final[list[TagData]] = [
    {"name": "Mobilization", "slug": "mobilization"},
    {"name": "Pokrovsk", "slug": "pokrovsk"},
    {"name": "Bakhmut", "slug": "bakhmut"},
    {"name": "Missile strikes", "slug": "missile-strikes"},
    {"name": "Crimea", "slug": "crimea"},
    {"name": "Sabotage", "slug": "sabotage"},
    {"name": "Military aid", "slug": "military-aid"},
    {"name": "Diplomacy", "slug": "diplomacy"},
]

MEDIA: Final[list[MediaData]] = [
    {
        "key": "demo/news-desk.svg",
        "mime_type": "image/svg+xml",
        "width": 256,
        "height": 256,
        "alt_text": "The news desk's logo: the letters ND on a dark blue circle",
        "caption": None,
        "credit": "Newsroom",
    },
    {
        "key": "demo/iryna-zavolska.svg",
        "mime_type": "image/svg+xml",
        "width": 256,
        "height": 256,
        "alt_text": "Avatar of Iryna Zavolska: the initials IZ on a teal circle",
        "caption": None,
        "credit": "Newsroom",
    },
    {
        "key": "demo/tom-hadley.svg",
        "mime_type": "image/svg+xml",
        "width": 256,
        "height": 256,
        "alt_text": "Avatar of Tom Hadley: the initials TH on an orange circle",
        "caption": None,
        "credit": "Newsroom",
    },
    {
        "key": "demo/enlistment-office.svg",
        "mime_type": "image/svg+xml",
        "width": 1200,
        "height": 675,
        "alt_text": "Drawing of an office building with a flag and a stack of paper notices",
        "caption": "Enlistment offices say most of the notices are about updating records.",
        "credit": "Illustration: Newsroom graphics desk",
    },
    {
        "key": "demo/frontline-drone.svg",
        "mime_type": "image/svg+xml",
        "width": 1200,
        "height": 675,
        "alt_text": "Drawing of a small quadcopter drone above a field",
        "caption": "Cheap drones have become one of the most requested items at the front.",
        "credit": "Illustration: Newsroom graphics desk",
    },
    {
        "key": "demo/rail-cabinet.svg",
        "mime_type": "image/svg+xml",
        "width": 1200,
        "height": 675,
        "alt_text": "Drawing of a railway signal cabinet beside a track, with a flame",
        "caption": "Relay cabinets control signals and switches along railway lines.",
        "credit": "Illustration: Newsroom graphics desk",
    },
    {
        "key": "demo/city-skyline.svg",
        "mime_type": "image/svg+xml",
        "width": 1200,
        "height": 675,
        "alt_text": "Drawing of a city skyline at night under a dark sky",
        "caption": None,
        "credit": "Illustration: Newsroom graphics desk",
    },
]

AUTHORS: Final[list[AuthorData]] = [
    {
        "name": "News Desk",
        "slug": "news-desk",
        "kind": "desk",
        "bio": (
            "The news desk is the newsroom's team for breaking news. We post short, essential "
            "updates on the war in Ukraine as it unfolds. Tell us what you think, or send us a "
            "news tip, at desk@newsroom.example."
        ),
        "email": "desk@newsroom.example",
        "avatar_key": "demo/news-desk.svg",
    },
    {
        "name": "Iryna Zavolska",
        "slug": "iryna-zavolska",
        "kind": "person",
        "bio": (
            "Iryna Zavolska reports from eastern Ukraine on the front line and on the soldiers "
            "and volunteers who keep it supplied."
        ),
        "email": "iryna.zavolska@newsroom.example",
        "avatar_key": "demo/iryna-zavolska.svg",
    },
    {
        "name": "Tom Hadley",
        "slug": "tom-hadley",
        "kind": "person",
        "bio": (
            "Tom Hadley covers diplomacy and the economics of the war, and hosts "
            f"{_SHOW}, the newsroom's weekly video show."
        ),
        "email": "tom.hadley@newsroom.example",
        "avatar_key": "demo/tom-hadley.svg",
    },
]

ARTICLES: Final[list[ArticleData]] = [
    {
        "title": "Russian enlistment offices send out summons in six regions",
        "slug": "enlistment-summons-six-regions",
        "dek": "Officials call it paperwork; some men are being asked to attend training.",
        "body": _markdown(
            "Military enlistment offices in six Russian regions have started handing out "
            "summons to men, an independent Russian news outlet reported. The regions named "
            "are:",
            "- Lipetsk, Tyumen, Sverdlovsk, Penza and Voronezh oblasts\n- Krasnodar Krai",
            "Most of the notices ask recipients to *clarify their details* in the offices' "
            "records. Some men, about a hundred of them in Tyumen Oblast, have been called to "
            "training instead.",
            "The Lipetsk administration said it was digitising its files. Residents in "
            "Sverdlovsk and Tyumen told the outlet they were being pressed to go to training "
            "camps. The Kremlin denies that a second wave of mobilization has begun.",
        ),
        "section_slug": "war",
        "author_slugs": ["news-desk"],
        "tag_slugs": ["mobilization"],
        "hero_image_key": "demo/enlistment-office.svg",
        "published_minutes_ago": 25,
    },
    {
        "title": "About 200 Russian troops have slipped into Pokrovsk, General Staff says",
        "slug": "pokrovsk-infiltration",
        "dek": "Small infantry groups are fighting Ukrainian units inside the city.",
        "body": _markdown(
            "Russian forces have gathered roughly 200 soldiers inside Pokrovsk by moving in "
            "small infantry groups, Ukraine's General Staff said.",
            "The troops are fighting Ukrainian units with small arms and drones, and the "
            "clashes are *intense*, according to the General Staff. It did not say how much "
            "of the city either side controls.",
            "Moving in small groups lets Russian units avoid the large assaults that are easy "
            "to spot from the air. Read what soldiers near the city say they need most: "
            "[cars and drones before missiles](/news/frontline-shortages-basics).",
        ),
        "section_slug": "war",
        "author_slugs": ["news-desk"],
        "tag_slugs": ["pokrovsk"],
        "hero_image_key": "demo/frontline-drone.svg",
        "published_minutes_ago": 95,
    },
    {
        "title": "At the front, soldiers ask for cars and drones before missiles",
        "slug": "frontline-shortages-basics",
        "dek": "Commanders say everyday gear decides whether a position holds.",
        "body": _markdown(
            "Kyiv is lobbying Washington for long-range missiles, but the soldiers holding "
            "the line near Pokrovsk describe a more basic problem.",
            "Soldiers and commanders there say a broken-down pickup can hurt as much as a "
            "missing missile. They list the same three shortages again and again:",
            "1. vehicles to move people and supplies\n"
            "2. small drones for scouting and strikes\n"
            "3. people to rotate exhausted crews",
            "Western weapons are also in short supply, the commanders said, but without the "
            "basics it becomes **much harder** to stop Russian advances.",
        ),
        "section_slug": "war",
        "author_slugs": ["iryna-zavolska"],
        "tag_slugs": ["military-aid", "pokrovsk"],
        "hero_image_key": None,
        "published_minutes_ago": 260,
    },
    {
        "title": "Arson hits Russian rail and power equipment, intelligence source says",
        "slug": "rail-power-arson",
        "dek": "Electrical panels and railway relay cabinets have been set on fire.",
        "body": _markdown(
            "Russia has seen a rise over the past week in fires at electrical panels, railway "
            "relay cabinets and other equipment that supports its war effort, a source in "
            "Ukraine's military intelligence told the newsroom.",
            "Some of the incidents were reported locally as *spontaneous combustion*. The "
            "source did not say who was behind them or how many sites were damaged.",
            "Relay cabinets control signals and switches, so a single fire can hold up trains "
            "on a whole stretch of line. Russian authorities have not commented on the "
            "reports.",
        ),
        "section_slug": "war",
        "author_slugs": ["news-desk"],
        "tag_slugs": ["sabotage"],
        "hero_image_key": "demo/rail-cabinet.svg",
        "published_minutes_ago": 430,
    },
    {
        "title": "Families of mobilized men in occupied Crimea complain of mistreatment",
        "slug": "crimea-mobilized-families",
        "dek": "Relatives say the men have few rights once they are in uniform.",
        "body": _markdown(
            "Russia has stepped up mobilization in the parts of Ukraine it occupies, "
            "including Crimea, and the relatives of men already drafted there are speaking "
            "out.",
            "Families say the men are treated badly and have little recourse when they are "
            "sent to the front or denied leave. Several said they had written to officials "
            "without receiving an answer, and asked that their names be withheld.",
            "Drafting residents of occupied territory is prohibited under international "
            "humanitarian law. Read our earlier report on "
            "[summons in six Russian regions](/news/enlistment-summons-six-regions).",
        ),
        "section_slug": "war",
        "author_slugs": ["news-desk"],
        "tag_slugs": ["crimea", "mobilization"],
        "hero_image_key": None,
        "published_minutes_ago": 720,
    },
    {
        "title": "Moscow says no to a ceasefire again. Is Washington's patience running out?",
        "slug": "kremlin-rejects-ceasefire",
        "dek": "The White House has sounded tougher. Whether policy follows is another matter.",
        "body": _markdown(
            "The Kremlin has once more turned down calls for a ceasefire with Ukraine, while "
            "its forces keep striking Ukrainian cities.",
            "Officials in Washington have recently talked about Russia in sharper terms, and "
            "Kyiv hopes that the change of tone will turn into more pressure on Moscow. "
            "Diplomats we spoke to were *cautious*: words are cheaper than sanctions or "
            "weapons deliveries.",
            "What to watch this week:",
            "- whether new sanctions are announced\n"
            "- what happens to Kyiv's request for long-range missiles\n"
            "- any sign of talks resuming",
        ),
        "section_slug": "politics",
        "author_slugs": ["tom-hadley"],
        "tag_slugs": ["diplomacy"],
        "hero_image_key": None,
        "published_minutes_ago": 1150,
    },
    {
        "title": "Missiles strike Kyiv and Kharkiv overnight",
        "slug": "kyiv-kharkiv-missile-strikes",
        "dek": "Air defence was active over both cities, local authorities said.",
        "body": _markdown(
            "Russia launched missiles at Kyiv and Kharkiv overnight, city authorities said, "
            "and air defence units were working over both cities.",
            "Emergency crews were called to several sites where debris fell. Officials asked "
            "residents to stay in shelters until the air raid alert was lifted and to follow "
            "only official channels for updates.",
            "There was no immediate information on casualties. Kharkiv, close to the Russian "
            "border, gets very little warning before missiles arrive.",
            "This is a developing story. The news desk will add details as they are confirmed.",
        ),
        "section_slug": "war",
        "author_slugs": ["news-desk"],
        "tag_slugs": ["missile-strikes"],
        "hero_image_key": "demo/city-skyline.svg",
        "published_minutes_ago": 1580,
    },
    {
        "title": "Frontline shortages create a market for second-hand pickups",
        "slug": "second-hand-pickups-market",
        "dek": "Volunteers buy used trucks abroad and drive them to the front.",
        "body": _markdown(
            "Volunteer groups that supply the army say used pickup trucks are now among the "
            "things they buy most often, because units wear them out faster than they can be "
            "replaced.",
            "Buyers look for sturdy, simple models that mechanics near the front can repair. "
            "Fundraisers say prices have risen as more groups compete for the same vehicles.",
            "The trade is *informal* and hard to measure, but the volunteers we spoke to "
            "described the same cycle: raise money, buy, drive east, repeat.",
        ),
        "section_slug": "business",
        "author_slugs": ["iryna-zavolska"],
        "tag_slugs": ["military-aid"],
        "hero_image_key": None,
        "published_minutes_ago": 2890,
    },
    {
        "title": "Why fires in relay cabinets matter for Russia's railways",
        "slug": "rail-sabotage-logistics",
        "dek": "Freight keeps the war supplied, and signals keep the freight moving.",
        "body": _markdown(
            "Most of the fuel, ammunition and equipment Russia sends towards the front "
            "travels by rail. That makes the humble relay cabinet, a metal box beside the "
            "track, an attractive target.",
            "When a cabinet burns, signals on that section stop working and trains have to "
            "slow down or wait while crews make repairs. One fire is a nuisance; **many "
            "fires** spread across a network add up to delays and costs.",
            "Repairs are quick, but crews and spare parts are finite. See our "
            "[report on the latest incidents](/news/rail-power-arson).",
        ),
        "section_slug": "business",
        "author_slugs": ["tom-hadley"],
        "tag_slugs": ["sabotage"],
        "hero_image_key": "demo/rail-cabinet.svg",
        "published_minutes_ago": 3600,
    },
    {
        "title": "Ukraine vows to hold Bakhmut as Wagner fighters push into industrial zone",
        "slug": "bakhmut-industrial-zone",
        "dek": "Fighting is concentrated in the city's northwest.",
        "body": _markdown(
            "Ukrainian commanders said their troops would keep defending Bakhmut after Wagner "
            "Group fighters stormed the industrial zone in the northwest of the city.",
            "Both sides have taken heavy losses in the battle for the city. Ukrainian "
            "officials said the defence was wearing down Russian units, while Wagner claimed "
            "to be making steady gains. Neither account could be independently verified.",
            "The city has been under attack for months and much of it is in ruins. The news "
            "desk is following the fighting and will post updates *as they come in*.",
        ),
        "section_slug": "war",
        "author_slugs": ["news-desk"],
        "tag_slugs": ["bakhmut"],
        "hero_image_key": None,
        "published_minutes_ago": 4150,
    },
]

VIDEO_EPISODES: Final[list[VideoEpisodeData]] = [
    {
        "title": "Sabotage behind the lines, and summons that are not a mobilization",
        "slug": "newsroom-weekly-41",
        "dek": "Fires on Russia's railways and a quiet round of draft notices.",
        "description": (
            "This week: the wave of arson against Russian rail and power equipment, what "
            "summons in six Russian regions tell us about Moscow's manpower needs, and why "
            "families in occupied Crimea are speaking out."
        ),
        "video_url": "https://video.newsroom.example/newsroom-weekly/41",
        "duration_seconds": 1320,
        "show": _SHOW,
        "episode_number": 41,
        "section_slug": "video",
        "author_slugs": ["tom-hadley"],
        "tag_slugs": ["sabotage", "mobilization"],
        "hero_image_key": None,
        "published_minutes_ago": 10_260,
    },
    {
        "title": "Pokrovsk, strikes on Kyiv and Kharkiv, and a ceasefire Moscow won't take",
        "slug": "newsroom-weekly-42",
        "dek": "Has Washington finally changed its approach to Russia?",
        "description": (
            "We look at the fighting inside Pokrovsk and the accusations of war crimes there, "
            "the continuing missile attacks on Ukrainian cities including Kyiv and Kharkiv, "
            "and Moscow's refusal of a ceasefire. Has the White House really shifted its "
            "approach to Russia?"
        ),
        "video_url": "https://video.newsroom.example/newsroom-weekly/42",
        "duration_seconds": 1485,
        "show": _SHOW,
        "episode_number": 42,
        "section_slug": "video",
        "author_slugs": ["tom-hadley", "iryna-zavolska"],
        "tag_slugs": ["pokrovsk", "missile-strikes", "diplomacy"],
        "hero_image_key": "demo/city-skyline.svg",
        "published_minutes_ago": 180,
    },
]


# Ukrainian editions of two stories, so `feed(locale: "uk", fallbackLocale: "en")` shows
# both languages on a fresh demo.
TRANSLATIONS: Final[list[TranslationData]] = [
    {
        "of_slug": "pokrovsk-infiltration",
        "locale": "uk",
        "title": "Генштаб: у Покровськ просочилися близько 200 російських військових",
        "slug": "pokrovsk-infiltration",
        "dek": "Невеликі піхотні групи ведуть бої з українськими підрозділами в місті.",
        "body": _markdown(
            "Російські сили зосередили в Покровську приблизно 200 військових, заходячи до "
            "міста малими піхотними групами, повідомив Генеральний штаб ЗСУ.",
            "Бої з українськими підрозділами точаться зі стрілецькою зброєю та дронами і є "
            "*запеклими*, кажуть у Генштабі. Скільки території міста контролює кожна "
            "сторона, там не уточнили.",
            "Малі групи дають змогу уникати великих штурмів, які легко помітити з повітря.",
        ),
        "published_minutes_ago": 90,
    },
    {
        "of_slug": "frontline-shortages-basics",
        "locale": "uk",
        "title": "На фронті бійці просять насамперед машини й дрони, а вже потім ракети",
        "slug": "frontline-shortages-basics",
        "dek": "Командири кажуть: від звичайного спорядження залежить, чи втримається позиція.",
        "body": _markdown(
            "Київ добивається від Вашингтона далекобійних ракет, але військові, які тримають "
            "оборону під Покровськом, говорять про простіші потреби.",
            "Бійці й командири раз у раз називають ті самі три нестачі:",
            "1. машини, щоб возити людей і припаси\n"
            "2. малі дрони для розвідки й ударів\n"
            "3. люди, щоб змінювати виснажені екіпажі",
            "Без цього, кажуть вони, зупиняти російські наступи стає **значно важче**.",
        ),
        "published_minutes_ago": 250,
    },
]
