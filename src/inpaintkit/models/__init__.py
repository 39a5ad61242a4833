"""Network architectures. Importing this package registers every built-in model."""

from inpaintkit.models import (  # noqa: F401
    context_encoder,
    dcgan,
    deepfill,
    latent_encoder,
    song,
    wgan_resnet,
)
