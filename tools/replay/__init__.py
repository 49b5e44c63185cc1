"""The scenario loader and the figures report (issue 8): ``make replay DATA=<dir>`` and ``make report``.

Both talk to the running services only through their public HTTP APIs: the loader records the scenario's
history with its own times, and the events those calls cause carry it on (points credits); the report reads
only the services' report endpoints. Neither knows a scenario's numbers or a business rule: the services
decide, the loader says which record they refused and why.
"""
