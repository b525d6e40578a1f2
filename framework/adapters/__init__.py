"""Vendor adapters: everything about one data vendor in one subpackage.

Each subpackage holds a vendor's subscriptions, wire codec, bar and quote assembly, live feed,
REST client, recording replay, session wiring and its simulated server, and depends on the
vendor-neutral core (events, feeds, engine, recording, test kit), never the other way round.
A second vendor would be a sibling subpackage; removing a vendor is removing its folder.
"""

#: The vendors are the subpackages; nothing is exported from here.
__all__: list[str] = []
