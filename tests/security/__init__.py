"""The attack suite of security issue 15: each test an attempt that must fail, named
after the finding it covers."""
