"""HTTP edge: the only package that imports sanic."""
