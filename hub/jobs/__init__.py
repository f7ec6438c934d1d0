"""Work that spans requests and must be done once for all hub workers (docs/deploy.md).

`publish`: the signed trust bundle and status lists, signed once and stored for every worker to serve.
`runner`: jobs that run on one worker at a time (retention purge, re-signing) under a database lock.
`line_inbox`: the LINE webhook events, stored at once and worked off by every worker, each once.
"""
