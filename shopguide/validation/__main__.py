"""``python -m shopguide.validation --sync``: regenerate the GX project from the code."""

from shopguide.validation.project import main

if __name__ == "__main__":
    raise SystemExit(main())
