"""How many kernels each dashboard keeps warm (Voilà's preheated pools)."""

from __future__ import annotations

#: The page people land on (a notebook's stem).
LANDING_PAGE = "summary"
#: Kernels kept warm per notebook by default. None: a forked kernel starts in about a
#: second (ecc.ui.zygote) while the page's numbers show at once from the cache
#: (ecc.ui.first_paint), and an idle server holds no kernel nobody asked for.
DEFAULT_POOL_SIZE = 0
#: Kernels kept warm per notebook whatever the default: the landing page, which
#: everyone opens first.
POOLS: dict[str, int] = {f"{LANDING_PAGE}.ipynb": 2}
