"""Many pieces into one folder: the batch, its folder and manifest, shards over machines, worker processes."""
