"""lamina.data (also importable as lamina.utils.data): datasets and the DataLoader."""
from lamina.data.dataloader import DataLoader, default_collate  # noqa: F401
from lamina.data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split  # noqa: F401
from lamina.data import datasets, transforms  # noqa: F401

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader", "default_collate",
           "datasets", "transforms"]
