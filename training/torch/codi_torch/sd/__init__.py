"""Stable-Diffusion-class backbones for CoDi adapters: the UNet, its configs and weight loading."""
