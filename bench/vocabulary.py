"""Words for the generated newsroom: sections, tags, people, headlines and bodies."""

from __future__ import annotations

__all__ = [
    "DESKS",
    "FIRST_NAMES",
    "HEADLINE_OBJECTS",
    "HEADLINE_SUBJECTS",
    "HEADLINE_VERBS",
    "LAST_NAMES",
    "PARAGRAPHS",
    "PLACES",
    "SECTIONS",
    "SHOWS",
    "TAG_TOPICS",
]

SECTIONS = (
    "War",
    "Politics",
    "Business",
    "World",
    "Science",
    "Culture",
    "Sport",
    "Opinion",
    "Technology",
    "Health",
    "Climate",
    "Investigations",
)

DESKS = ("News Desk", "Business Desk", "Video Desk", "Sports Desk", "Data Desk")

FIRST_NAMES = (
    "Iryna",
    "Tom",
    "Olena",
    "Marta",
    "Pavel",
    "Anna",
    "Jonas",
    "Sofia",
    "Daniel",
    "Leila",
    "Oksana",
    "Mikhail",
    "Grace",
    "Yusuf",
    "Hanna",
)

LAST_NAMES = (
    "Zavolska",
    "Hadley",
    "Kovalenko",
    "Novak",
    "Fischer",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Petrenko",
    "Haddad",
    "Brennan",
    "Sato",
)

TAG_TOPICS = (
    "Elections",
    "Energy",
    "Railways",
    "Drones",
    "Sanctions",
    "Inflation",
    "Housing",
    "Wildfires",
    "Vaccines",
    "Courts",
    "Refugees",
    "Farming",
    "Shipping",
    "Banks",
    "Universities",
    "Football",
    "Cinema",
    "Museums",
    "Startups",
    "Oil",
    "Gas",
    "Water",
    "Floods",
    "Police",
    "Parliament",
    "Taxes",
    "Pensions",
    "Hospitals",
    "Schools",
    "Airlines",
    "Cyberattacks",
    "Satellites",
    "Elections Abroad",
    "Trade",
    "Mining",
    "Fisheries",
    "Tourism",
    "Media",
    "Religion",
    "Space",
)

PLACES = ("Kyiv", "Kharkiv", "Odesa", "Brussels", "Berlin")

HEADLINE_SUBJECTS = (
    "City council",
    "Regional court",
    "Central bank",
    "Rail operator",
    "Health ministry",
    "Farmers' union",
    "Energy regulator",
    "Opposition leader",
    "University rector",
    "Port authority",
    "Army command",
    "Football federation",
    "Weather service",
    "Tax office",
    "Mayor",
    "Prosecutors",
)

HEADLINE_VERBS = (
    "approves",
    "rejects",
    "delays",
    "announces",
    "questions",
    "defends",
    "expands",
    "cuts",
    "investigates",
    "restores",
    "suspends",
    "backs",
)

HEADLINE_OBJECTS = (
    "budget for rail upgrade",
    "plan to rebuild bridges",
    "new drone factory",
    "grain export corridor",
    "winter heating support",
    "ban on night trains",
    "funding for field hospitals",
    "reform of local courts",
    "power line repairs",
    "school meals programme",
    "sanctions on shipping firms",
    "evacuation of border towns",
    "tax break for small firms",
    "probe into missing funds",
    "stadium renovation",
    "water supply overhaul",
)

SHOWS = (
    "The Frontline Briefing",
    "Money Matters",
    "Science Explained",
    "The Week in Review",
    "Inside the Courtroom",
    "Culture Clip",
    "Match Day",
    "Climate Watch",
)

PARAGRAPHS = (
    "Officials said the decision followed months of talks with local councils, which had "
    "asked for clearer rules and steadier funding before the winter. Several mayors "
    "welcomed the move but warned that the money would arrive late.",
    "The plan sets aside money for **repairs**, new equipment and training, according to a "
    "document seen by the newsroom. It does not say how long the work will take or who "
    "will oversee it.",
    "Critics called the figures optimistic. An economist at a Kyiv university said the "
    "costs were likely to double once contractors priced in the risk of further strikes "
    "on the grid.",
    "Residents interviewed on Tuesday described long queues, patchy mobile coverage and "
    "buses that no longer keep to a timetable. *We have learned to plan around it*, one "
    "pensioner said.",
    "The ministry did not answer questions about the timetable. A spokeswoman said details "
    "would be published [on the ministry's website](https://example.org/ministry) once "
    "the cabinet had signed off.",
    "Similar schemes in neighbouring regions were paused last year after auditors found "
    "that contracts had been awarded without open tenders.",
    "- Work on the first stage starts in spring\n- A second stage depends on foreign loans\n"
    "- Local firms get priority in tenders",
    "Opposition lawmakers said they would ask for a hearing in parliament. The ruling "
    "party has enough votes to pass the measure without them.",
    "Analysts expect prices to stay high until the autumn. Exporters, meanwhile, are "
    "looking for routes that avoid the busiest ports.",
    "The newsroom will update this story as more information becomes available.",
)
