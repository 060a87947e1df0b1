"""Size limits every door enforces the same way (gateway, ingest, validation): one place.

The portal, the public API and the internal APIs all say the same number to the user;
change a limit here and every reader of it follows.
"""

from __future__ import annotations

MB = 1024 * 1024
MAX_UPLOAD_BYTES = 15 * MB
"""One TISS XML upload (or a corrected revision): 15 MB."""
MAX_CSV_BYTES = 20 * MB
"""One registry CSV of the operator (prestadores or beneficiários): 20 MB."""
