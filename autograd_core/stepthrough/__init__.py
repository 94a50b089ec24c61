"""The step-through: ``explain``/``Trace`` (``trace``), the symbols the rules
print themselves with (``symbolic``) and the safe formula parser (``parser``)."""
