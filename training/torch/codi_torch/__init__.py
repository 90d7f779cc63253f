"""PyTorch training engine of CoDi Studio: runs the op list core/nn records (graph spec)."""
