"""Time nodes: TimeOffset, FrameHold, FrameRange and Retime show their input at another
frame.

TimeOffset, FrameHold and FrameRange compute nothing: each declares
:meth:`~mattebox.nodes.spec.NodeSpec.input_frame`, and the engine evaluates the input at
that frame and returns its result as theirs. Retime declares
:meth:`~mattebox.nodes.spec.NodeSpec.input_frames`: a whole frame is the same reference,
a fractional one (with ``frame_blend``) a mix of the two neighbouring frames.
"""
