"""Network architectures. Importing this package registers every built-in model."""

from inpaintkit.models import dcgan, deepfill, wgan_resnet  # noqa: F401
