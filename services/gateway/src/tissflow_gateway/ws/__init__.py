"""The ANS TISS web services: the SOAP 1.1 door for clinics' billing software.

`soap.py` (the HTTP route, envelope, hash and fault handling, authentication, WSDL) calls
the operation registered for the request's body element (`registry.py`); each operation
module in `operations/` turns one authenticated `Call` into a `Reply` by calling the same
use cases the portal and `/api/v1` call, so there is no second pipeline.
"""
