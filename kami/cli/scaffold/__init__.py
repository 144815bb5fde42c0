"""``kami new-app NAME``: a working app (model, repository, service, controller, schemas, migration,
tests) that passes its own tests as soon as it is written."""

from kami.cli.scaffold.generate import ScaffoldError, new_app

__all__ = ["ScaffoldError", "new_app"]
