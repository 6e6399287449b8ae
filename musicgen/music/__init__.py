"""Music in beats: notes and pieces, keys, metre, voices, velocities; torch-free, the ground floor."""
