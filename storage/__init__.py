"""Object storage: presigned uploads from phones, verification, image normalisation, access."""
