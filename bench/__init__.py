"""`make bench`: a generated newsroom, Newsdesk and a raw baseline under load, a report."""
