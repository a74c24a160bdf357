"""shopguide: the nightly AI shopping guide."""
