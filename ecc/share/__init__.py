"""Read-only share links (FR-7, US-011): a signed, expiring, revocable link to a frozen
snapshot of a report, for someone without an account.

- :mod:`.links`: create, check, list and revoke links; the snapshot is stored with the
  link, so the page never changes and needs no kernel and no database query beyond it.
- :mod:`.server`: ``ecc share serve``, a small web server that answers ``/share/<token>``
  and nothing else.
"""
