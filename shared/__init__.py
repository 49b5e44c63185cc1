"""weizhili's common package: the mechanisms every service uses, and no business rules.

Pieces: ``config`` (settings from the environment), ``app`` (the Flask app factory), ``errors``
(RFC 9457 problem details), ``schemas`` (strict marshmallow types), ``auth`` (bearer JWT),
``pagination`` (cursors), ``db`` (engines, sessions, unit of work), ``models`` (outbox, inbox,
idempotency keys), ``events`` (the event catalogue and CloudEvents envelope), ``outbox``, ``amqp``
(connection and topology), ``relay``, ``consumer``, ``worker``, ``observability`` (JSON logs, metrics).
"""
