"""Registry look-ups for the engine that cost what the file costs, not what the registry holds.

The engine runs in a worker thread and asks, synchronously, "is this carteira known?",
"is this provider registered?", "was this guide already presented?". Loading whole
registries per file would grow with the operator's beneficiaries and the provider's
history. Instead the keys a file mentions are found with a cheap scan of its bytes and
fetched in one query each; any key the scan missed (CDATA, odd spacing) is fetched on demand
from the worker thread through the service's event loop, so answers are always exact.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping
from typing import Any

_LEAF = rb"<(?:[\w.-]+:)?(%s)>\s*([^<]{1,40}?)\s*</"
_CARTEIRA = re.compile(_LEAF % rb"numeroCarteira")
_GUIA = re.compile(_LEAF % rb"numeroGuiaPrestador")
_PRESTADOR = re.compile(
    _LEAF % rb"CNPJ|CPF|cnpjContratado|cpfContratado|codigoPrestadorNaOperadora|codigoNaOperadora"
)

Fetch = Callable[[list[str]], Coroutine[Any, Any, dict[str, Any]]]


def _values(pattern: re.Pattern[bytes], content: bytes) -> list[str]:
    return sorted({m.group(2).decode("latin-1").strip() for m in pattern.finditer(content)})


def carteiras_in(content: bytes) -> list[str]:
    return _values(_CARTEIRA, content)


def guias_in(content: bytes) -> list[str]:
    return _values(_GUIA, content)


def prestadores_in(content: bytes) -> list[str]:
    return _values(_PRESTADOR, content)


class LazyRegistry(Mapping[str, Any]):
    """A read-only mapping prefetched with the file's keys; misses are fetched on demand.

    Iteration and `len` cover only what has been fetched so far: the engine only asks
    for keys (`in`, `[]`, `.get`).
    """

    def __init__(
        self,
        prefetched: dict[str, Any],
        asked: Iterable[str],
        fetch: Fetch,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._found = dict(prefetched)
        self._missing = set(asked) - set(prefetched)
        self._fetch = fetch
        self._loop = loop

    def _load(self, key: str) -> None:
        future = asyncio.run_coroutine_threadsafe(self._fetch([key]), self._loop)
        found = future.result(timeout=30)
        if key in found:
            self._found[key] = found[key]
        else:
            self._missing.add(key)

    def __getitem__(self, key: str) -> Any:
        if key not in self._found and key not in self._missing:
            self._load(key)
        if key in self._found:
            return self._found[key]
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(dict(self._found))

    def __len__(self) -> int:
        return len(self._found)


async def lazy_registry(
    keys: list[str], fetch: Fetch, loop: asyncio.AbstractEventLoop
) -> LazyRegistry:
    return LazyRegistry(await fetch(keys) if keys else {}, keys, fetch, loop)
