"""kami.overrides.lazy_repository: advanced-alchemy still builds the repository in __init__."""

from __future__ import annotations

from pathlib import Path

from advanced_alchemy.service import SQLAlchemyAsyncRepositoryService
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from apps.app_b.models import Product
from apps.app_b.repositories import ProductRepository
from apps.app_b.services import ProductService


class _Plain(SQLAlchemyAsyncRepositoryService[Product, ProductRepository]):
    repository_type = ProductRepository


async def test_tripwire_the_plain_service_builds_its_repository_at_once(tmp_path: Path) -> None:
    """If this fails, advanced-alchemy defers the repository itself (or keeps it elsewhere): delete or
    adjust the override."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'lazy.db'}")
    try:
        async with AsyncSession(engine) as session:
            assert "_repository_instance" in _Plain(session=session).__dict__
            lazy = ProductService(session=session)
            assert "_repository_instance" not in lazy.__dict__
            assert isinstance(lazy.repository, ProductRepository)
            assert "_repository_instance" in lazy.__dict__
    finally:
        await engine.dispose()
