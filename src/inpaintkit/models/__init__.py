"""Network architectures. Importing this package registers every built-in model."""

from inpaintkit.models import context_encoder, dcgan, deepfill, song, wgan_resnet  # noqa: F401
