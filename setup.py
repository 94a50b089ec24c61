"""Build the optional compiled backward-driver bookkeeping (autograd_core.core._speedups).

Everything else is configured in pyproject.toml. The extension is optional:
where no C compiler is present the build skips it with a warning and the
pure-Python driver in autograd_core/core/engine.py (the reference) is used.
"""

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class BuildExt(build_ext):
    def build_extensions(self) -> None:
        if self.compiler.compiler_type == "unix":  # gcc/clang: no fused multiply-add,
            for ext in self.extensions:          # so floats round exactly as in Python
                ext.extra_compile_args = ["-ffp-contract=off", "-O2"]
        super().build_extensions()


setup(
    ext_modules=[Extension("autograd_core.core._speedups", ["autograd_core/core/_speedups.c"], optional=True)],
    cmdclass={"build_ext": BuildExt},
)
