"""Tools for testing derivatives: finite differences (``numerical``),
``gradcheck``, ``grad``/``jvp``/``hessian`` (``functional``), the pytest helpers
(``testing``, ``pytest_plugin``) and anomaly mode (``anomaly``)."""
