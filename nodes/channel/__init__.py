"""Channel nodes (Shuffle, Copy, ChannelMerge, Remove) and the engine's per-layer kernels:
the mask/channel mix every maskable node is wrapped in, plane shuffles, merges of other
layers and premultiplication by the main alpha."""
