"""`make fuzz`: hostile operations and bytes against the app with production settings.

values.py      hostile values per GraphQL input type (strings, IDs, cursors, dates, numbers)
operations.py  hypothesis-graphql documents with those values put in, inline or as variables
faults.py      one request and its verdict: a 5xx, an app exception, a hang, an error the
               server logged or masked as "Unexpected error." is a fault
test_operations.py, test_bytes.py   the two fuzzers (NEWSDESK_FUZZ_EXAMPLES per backend)
"""
