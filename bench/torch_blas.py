"""Which BLAS PyTorch really uses: both PyTorch peers report it beside their figures."""


def loaded_blas():
    """The BLAS actually mapped into this process (Debian's torch links the generic libblas.so.3 name)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line}
    except OSError:
        return "unknown"
    return ", ".join(sorted(p for p in paths if p.startswith("/"))) or "none mapped"
