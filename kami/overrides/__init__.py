"""Every place kami works around a library's behaviour or reaches into its internals, and only here.

| module | works around | upstream |
|---|---|---|
| ``dependency_order`` | Litestar resolves independent dependencies in a task group | litestar#4563 |
| ``options_allow`` | Litestar's automatic ``OPTIONS`` lists one handler group's methods | litestar#4169 |
| ``json_request`` | Litestar answers undecodable JSON bodies (bad UTF-8, deep nesting) 500 | none filed |
| ``openapi_document`` | Litestar documents errors in its own shape, long generic names | litestar#4523 |
| ``replica_routing`` | advanced-alchemy's routing session fails on SQLAlchemy 2.1 | advanced-alchemy#793 |
| ``lazy_repository`` | advanced-alchemy's service builds its repository eagerly | none filed |
| ``lean_session`` | closing an unused ``AsyncSession`` still enters a greenlet | none filed |
| ``pool_internals`` | SQLAlchemy pools do not expose their overflow and recycle | none filed |
| ``asyncmy_socket`` | asyncmy raises a bare ``RuntimeError`` for a socket closed mid-connect | none filed |
| ``asyncpg_numeric`` | asyncpg's ``Numeric`` needs a type OID to process results | none filed |
| ``otel_internals`` | OTel's private logs SDK, env sampler, queue-drop log; SQLAlchemy < 2.1 | contrib#2971 |
| ``granian_drain`` | Granian closes its listener on SIGTERM, with no drain first | granian#518 |
| ``compression_close`` | Litestar leaves a ``GzipFile`` open when an error bypasses it | cpython#122727 |
| ``response_headers`` | Litestar's ``MutableScopeHeaders`` rescans all headers per header set | none filed |
| ``upstream_warnings`` | libraries' deprecation warnings about their own code | sqlalchemy#12346 |

Each module's docstring says what it overrides, where upstream stands, the versions it was written for,
and names its tripwire in ``tests/overrides/``: a test that fails the day upstream changes the
behaviour relied on, so the override is deleted (or fixed) then and not found out later.
Nothing here imports the rest of kami beyond its foundation modules.
"""
