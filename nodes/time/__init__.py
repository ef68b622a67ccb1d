"""Time nodes: TimeOffset, FrameHold and FrameRange show their input at another frame.

They compute nothing: each declares :meth:`~mattebox.nodes.spec.NodeSpec.input_frame`,
and the engine evaluates the input at that frame and returns its result as theirs.
"""
