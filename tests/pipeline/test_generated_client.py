"""A client generated from /schema/openapi.json (openapi-python-client) works against a running kami:
registers, logs in and places an order — the proof REST clients can rely on the document."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import service_url
from tests.support.servers import kami_env, run_kami
from tests.support.tokens import bearer

KEY = "c" * 40


def _generate(url: str, folder: Path) -> None:
    document = folder / "openapi.json"
    document.write_text(httpx.get(f"{url}/schema/openapi.json", timeout=10).text)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--output-path",
            str(folder / "kami_client"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr


@pytest.fixture
def client_package(tmp_path: Path) -> Any:
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == "kami_client" or m.startswith("kami_client.")]:
            del sys.modules[name]


def test_generated_client_registers_logs_in_and_orders(client_package: Path) -> None:
    with run_kami(kami_env(client_package, KAMI_SECRET_KEY=KEY, KAMI_REDIS_URL=service_url("redis"))) as kami:
        _generate(kami.url, client_package)
        kc = importlib.import_module("kami_client")
        accounts = importlib.import_module("kami_client.api.accounts_identity_and_access")
        orders = importlib.import_module("kami_client.api.app_a_orders")
        catalogue = importlib.import_module("kami_client.api.app_b_catalogue")
        models = importlib.import_module("kami_client.models")
        for module in ("accounts_register", "accounts_login"):
            importlib.import_module(f"{accounts.__name__}.{module}")
        for module in ("app_a_credit", "app_a_place_order"):
            importlib.import_module(f"{orders.__name__}.{module}")
        importlib.import_module(f"{catalogue.__name__}.app_b_create_product")

        anonymous = kc.Client(base_url=kami.url)
        admin = kc.AuthenticatedClient(
            base_url=kami.url, token=bearer(KEY, service_url("redis"))["Authorization"].split()[1]
        )

        product = catalogue.app_b_create_product.sync(
            client=admin, body=models.ProductCreate(name="Generated lamp", price="12.50", stock=5)
        )
        assert product.code == 0
        user = accounts.accounts_register.sync(
            client=anonymous,
            body=models.Registration(email="gen@example.com", username="gen", password="correct horse"),
        )
        assert user.code == 0
        credited = orders.app_a_credit.sync(
            account_id=user.data.id, client=admin, body=models.Credit(amount="100")
        )
        assert credited.code == 0

        tokens = accounts.accounts_login.sync(
            client=anonymous, body=models.LoginIn(email="gen@example.com", password="correct horse")
        )
        assert tokens.code == 0
        buyer = kc.AuthenticatedClient(base_url=kami.url, token=tokens.data.access_token)
        order = orders.app_a_place_order.sync(
            client=buyer,
            body=models.OrderIn(items=[models.OrderLineIn(product_id=product.data.id, quantity=2)]),
        )
        assert isinstance(order, models.OrderOutResponse), order
        assert order.code == 0
        assert Decimal(order.data.total) == Decimal("25.00")
        assert len(order.trace_id) == 32

        refused = orders.app_a_place_order.sync(
            client=anonymous,
            body=models.OrderIn(items=[models.OrderLineIn(product_id=product.data.id, quantity=1)]),
        )
        assert isinstance(refused, models.ErrorResponse)  # the documented error envelope, parsed
        assert refused.code == 1004
