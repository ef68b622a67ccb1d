"""Evaluation: nodes at one frame, layer by layer, into :class:`NodeEval` records.

The planner works on one *plane* at a time: the main layer ``rgba`` or another layer
(``diffuse``, ``depth``...), each an H×W×4 buffer (ARCHITECTURE.md, "Image model").
:class:`Evaluator` answers "what computes layer L of node N": a record whose inputs are
themselves records of some layer of the upstream nodes. What a node does to a layer:

- a layer its ``channels`` do not select, a disabled node, a pass-through (Dot, mix 0):
  the main input's record of that layer, *by reference*: no copy, the same hash, so a
  graded beauty and an untouched depth share one decode;
- a selected layer: the node's kernels on that layer (the planner fuses and tiles it like
  any other); a Merge's other layers become ``MergeLayers`` (Nuke's "also merge"), a
  Premult's ``PremultBy`` (by the main alpha);
- around that, where asked: ``unpremult`` (``PremultBy`` divide, then multiply), and a
  ``MaskMix`` that keeps unselected channels and applies ``Mask``/``mix``:
  ``out = in + (processed - in) * mix * mask``. Point ops fuse with these, so a masked
  Grade is still one kernel;
- channel nodes (Shuffle, Copy, Remove, ChannelMerge) route channels between layers:
  ``ShufflePlane``/``ChannelOp`` where a layer is rebuilt, a reference where it is not;
- transforms (resample ops) move every layer; a Read decodes only the layers asked of it.
- time nodes (TimeOffset, FrameHold, FrameRange: :meth:`NodeSpec.input_frame`) return
  their input's record at another frame, by reference; that frame has its own evaluator
  (:meth:`Evaluator.at_frame`), so memos are per frame and hashes differ where the
  upstream does (a Read of ``####`` names another file, animated values differ).
- time nodes that blend frames (Retime) declare ``input_frames(values, frame)``: a list
  of ``(frame, weight)`` pairs, weights relative. Where one frame has all the weight it
  is the path above, by reference; else the input's records at those frames folded into
  ``Dissolve`` records (``which`` = the weight's share so far), one per layer, data
  windows united. Their hashes are Dissolve's over the two records' hashes and ``which``,
  so they differ by frame as their inputs do; equal records (a still) are not mixed.
  The other time nodes keep ``input_frame`` alone.

Layers are asked for from the root down, so a Read is asked only for the layers that
something downstream uses: channel requests travel backwards like regions.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mattebox.engine import color, group
from mattebox.engine.passes import NodeEval, RenderError, ocio_processor
from mattebox.nodes import channels as chans
from mattebox.nodes import spec as specs
from mattebox.nodes.spec import EMPTY, MASK_INPUT, RGBA_LAYERS, Context, ImageInfo, Kind

if TYPE_CHECKING:
    from mattebox.engine.graph import Graph, Node

MAIN = chans.MAIN


#: How many nodes deep an evaluation recurses before it evaluates the node it reached
#: first and starts again (each level costs a few Python frames; a chain of any length
#: then stays far inside Python's recursion limit).
MAX_NESTING = 40


class _TooDeep(Exception):
    """An evaluation reached :data:`MAX_NESTING`: evaluate ``node`` first, then retry."""

    def __init__(self, evaluator: Evaluator, node: Node, layer: str):
        super().__init__(node.name)
        self.evaluator, self.node, self.layer = evaluator, node, layer


def _hash(parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:20]


class Evaluator:
    """Resolves nodes at one frame into :class:`NodeEval` records, memoised per
    ``(node path, layer)``. Groups are flattened here: a group is what feeds its Output,
    an Input inside one what feeds the group's input of its name, both by reference
    (:mod:`mattebox.engine.group`), so inner nodes plan and hash as if ungrouped.

    ``source_info`` is the engine's hook for file sources: it returns
    ``(ImageInfo, identity)`` for a Read node (the info with the file's layers and, in
    ``identity``, anything that changes when the file does: path, size, mtime).

    A proxy render (``ctx.proxy`` N > 1) is scaled here and nowhere else: the values at
    the frame become the values at 1/N scale (spatial parameters divided by N, see
    :meth:`Param.scaled`) before pass-through, ``pack`` and the hash, and the hash
    includes N so that results of different levels never share a cache entry. The
    context's ``script_format`` is already scaled (``render.context_for``) and
    ``source_info`` scales file formats and data windows.

    Time nodes ask for their input at another frame: :meth:`at_frame` gives this
    render's evaluator at that frame (the same context but for the frame, proxy
    included), made once per frame and shared by all of them, as is the set of nodes
    being visited: a node met again upstream of itself, at any frame, is a cycle.
    """

    def __init__(self, graph: Graph, ctx: Context, source_info):
        self.graph = graph
        self.ctx = ctx
        self.source_info = source_info
        self.memo: dict[tuple[str, str], NodeEval] = {}
        self.visiting: set[tuple[str, str]] = set()
        self._at: dict[float, Evaluator] = {ctx.frame: self}
        self._depth = [0]  # nested eval calls, shared by the evaluators of every frame

    # -- entry points ----------------------------------------------------------------

    def eval(self, node: Node, layer: str = MAIN) -> NodeEval:
        """What computes ``layer`` of ``node`` (an empty record where it has no such
        layer)."""
        key = (node.path, layer)
        if key in self.memo:
            return self.memo[key]
        if self._depth[0] == 0:
            return self._eval_deep(node, layer)
        if self._depth[0] >= MAX_NESTING:
            raise _TooDeep(self, node, layer)
        return self._eval_once(node, layer)

    def _eval_once(self, node: Node, layer: str) -> NodeEval:
        key = (node.path, layer)
        if node.is_placeholder:
            hint = specs.type_hint(node.type)
            raise RenderError(node.name, f"node type {node.type!r} is not installed{hint}")
        if key in self.visiting:
            raise RenderError(node.name, "is part of a cycle")
        self.visiting.add(key)
        self._depth[0] += 1
        try:
            result = self._eval(node, layer)
        finally:
            self._depth[0] -= 1
            self.visiting.discard(key)
        self.memo[key] = result
        return result

    def _eval_deep(self, node: Node, layer: str) -> NodeEval:
        """Evaluate without recursing deeper than :data:`MAX_NESTING` nodes, however long
        the chain: a walk that reaches the limit stops, the node it reached is evaluated
        first (its record memoised), and the walk starts again, now stopping at that
        memo. Each node is still evaluated once, and only the nodes a plain recursive
        walk would reach are (an unused branch is never touched)."""
        pending = [(self, node, layer)]
        waiting: set[tuple[int, str, str]] = set()
        while pending:
            evaluator, wanted, wanted_layer = pending[-1]
            if (wanted.path, wanted_layer) in evaluator.memo:
                pending.pop()
                continue
            try:
                evaluator._eval_once(wanted, wanted_layer)
            except _TooDeep as deep:
                mark = (id(deep.evaluator), deep.node.path, deep.layer)
                if mark in waiting:  # it waits, through the chain, on itself
                    raise RenderError(deep.node.name, "is part of a cycle") from None
                waiting.add(mark)
                pending.append((deep.evaluator, deep.node, deep.layer))
                continue
            pending.pop()
        return self.memo[(node.path, layer)]

    def at_frame(self, frame: float) -> Evaluator:
        """This render's evaluator at ``frame`` (this one at its own frame)."""
        found = self._at.get(frame)
        if found is None:
            ctx = replace(self.ctx, frame=frame, extras=dict(self.ctx.extras))
            found = Evaluator(self.graph, ctx, self.source_info)
            found._at, found.visiting, found._depth = self._at, self.visiting, self._depth
            self._at[frame] = found
        return found

    def layers(self, node: Node) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The layers of ``node``'s output, ``rgba`` first."""
        return self.eval(node, MAIN).info.layers

    # -- one node, one layer ------------------------------------------------------------

    def _eval(self, node: Node, layer: str) -> NodeEval:
        if node.is_group or node.type == group.INPUT:  # flattened: by reference
            upstream = group.flattened_input(node)
            return self.eval(upstream, layer) if upstream else self._black(node, node.spec, {})
        spec = node.spec
        values = self._call(node, spec.values_at, node.values, self.ctx.frame)
        values = spec.scaled_values(values, self.ctx.proxy)
        if values.get("disable"):
            main = spec.main_input()
            upstream = node.input(main) if main else None
            return self.eval(upstream, layer) if upstream else self._black(node, spec, values)
        frames = self._call(node, spec.input_frames, values, self.ctx.frame)
        if frames is not None:  # a time node that may blend frames
            return self._frames_blended(node, spec, values, frames, layer)
        other = self._call(node, spec.input_frame, values, self.ctx.frame)
        if other is not None:  # a time node: its input at that frame, by reference
            upstream = node.input(spec.main_input())
            if upstream is None:
                return self._black(node, spec, values)
            return self.at_frame(other).eval(upstream, layer)
        through = spec.pass_through(values)
        if through is not None:
            upstream = node.input(through)
            if upstream is None:
                if spec.kind is Kind.SINK or not node.input_names:
                    raise RenderError(node.name, f"nothing connected to input {through}")
                return self._black(node, spec, values)
            return self.eval(upstream, layer)
        if layer != MAIN and layer not in dict(self.layers(node)):
            return self._black(node, spec, values)
        if spec.routes():
            result = self._routed(node, spec, values, layer)
        elif spec.kind is Kind.SOURCE:
            result = self._source(node, spec, values, layer)
        elif spec.is_maskable():
            result = self._processed(node, spec, values, layer)
        elif layer != MAIN and spec.main_layer_only:  # (Roto) the input's, by reference
            result = self.eval(node.input(spec.main_input()), layer)
        else:  # transforms and the like: every layer alike
            result = self._make(node, spec, values, self._inputs(node, spec, layer), layer)
        if layer == MAIN:
            result = self._with_layers(node, spec, values, result)
        return result

    def _frames_blended(self, node: Node, spec, values: dict, frames, layer: str) -> NodeEval:
        """``layer`` of the main input as the weighted mix of its records at ``frames``
        (``(frame, weight)`` pairs, weights relative): the one record by reference where
        a single frame has weight, else a chain of ``Dissolve`` records."""
        upstream = node.input(spec.main_input())
        weighted = [(float(f), float(w)) for f, w in frames if w > 0]
        if upstream is None or not weighted:
            return self._black(node, spec, values)
        dissolve = specs.get("Dissolve")
        blended, total = None, 0.0
        for frame, weight in weighted:
            ev = self.at_frame(frame).eval(upstream, layer)
            total += weight
            if blended is None:
                blended = ev
            elif ev.hash != blended.hash:  # (a + (a - a) * w is a: no pass for a still)
                mix = dissolve.defaults() | {"which": weight / total}
                blended = self._make(node, dissolve, mix, [blended, ev], layer, role="blend")
                if layer == MAIN:  # every frame's layers, the first frame's first
                    layers = dict(blended.inputs[0].info.layers)
                    for name, channels in ev.info.layers:
                        layers.setdefault(name, channels)
                    info = replace(blended.info, layers=tuple(layers.items()))
                    blended = replace(blended, info=info)
        return blended

    def _with_layers(self, node: Node, spec, values: dict, ev: NodeEval) -> NodeEval:
        """``ev`` with the node's output layers in its info (the main layer's record
        carries them for the whole image)."""
        if spec.kind is Kind.SOURCE or spec.routes():
            return ev  # set where the layers were found
        infos = [
            self.eval(up, MAIN).info if (up := node.input(name)) else None
            for name in spec.image_inputs()
        ]
        layers = self._call(node, spec.layers, values, infos)
        if layers == ev.info.layers:
            return ev
        return replace(ev, info=replace(ev.info, layers=layers))

    def _inputs(self, node: Node, spec, layer: str) -> list[NodeEval | None]:
        """The records of ``layer`` of each image input (None where unconnected)."""
        self._check_inputs(node, spec)
        return [
            self.eval(up, layer) if (up := node.input(name)) else None
            for name in spec.image_inputs()
        ]

    @staticmethod
    def _check_inputs(node: Node, spec) -> None:
        names = spec.image_inputs()
        nothing = all(node.input(name) is None for name in names)
        if nothing and any(spec.is_required(name) for name in names):  # (Roto: all optional)
            raise RenderError(node.name, f"nothing connected to input {names[0]}")
        for name in names:
            if node.input(name) is None and spec.kind is not Kind.POINT and spec.is_required(name):
                raise RenderError(node.name, f"nothing connected to input {name}")

    def _source(self, node: Node, spec, values: dict, layer: str) -> NodeEval:
        if not spec.file_source:
            if layer != MAIN:
                return self._black(node, spec, values)
            info = self._call(node, spec.source_info, values, self.ctx)
            return self._make(node, spec, values, [], layer, info=info)
        if layer == MAIN:
            info, identity, windows = self.source_info(node, values, self.ctx)
            ev = self._make(node, spec, values, [], layer, info=info, identity=identity)
            ev.extras["layer_windows"] = windows
            return ev
        main = self.eval(node, MAIN)
        window = main.extras["layer_windows"].get(layer, main.info.data_window)
        info = ImageInfo(main.info.format, window, main.info.layers)
        return self._make(
            node, spec, values, [], layer, info=info, identity=main.extras["identity"]
        )

    # -- nodes that change pixels: channels, unpremult, mask and mix -----------------------

    def _processed(self, node: Node, spec, values: dict, layer: str) -> NodeEval:
        main_name = spec.main_input()
        main_node = node.input(main_name) if main_name else None
        in_layers = self.layers(main_node) if main_node else RGBA_LAYERS
        try:
            select = chans.selection(values["channels"], in_layers).get(layer)
        except ValueError as error:
            raise RenderError(node.name, f"channels: {error}") from None
        how = self._call(node, spec.layer_kernel, values, layer, select, in_layers)
        if how is None:  # not selected: the input's layer, by reference
            return self.eval(main_node, layer) if main_node else self._black(node, spec, values)
        kernel_spec, kernel_values, wanted = how
        self._check_inputs(node, spec)
        names = spec.image_inputs()
        inputs = [
            self.eval(up, at) if (up := node.input(names[index])) else None for index, at in wanted
        ]
        count = len(dict(in_layers).get(layer, chans.MAIN_CHANNELS))
        select = select or (1, 1, 1, 1)
        original = inputs[0]
        if values.get("unpremult") == "alpha" and original is not None:
            alpha = self.eval(main_node, MAIN)
            inputs[0] = self._premult(node, original, alpha, layer, count, divide=True)
        core = self._make(node, kernel_spec, kernel_values, inputs, layer)
        if core.spec.kind is Kind.COLOR_PROCESSOR:
            core = self._as_matrix(core)
        if values.get("unpremult") == "alpha" and original is not None:
            alpha = core if layer == MAIN else self.eval(main_node, MAIN)
            core = self._premult(node, core, alpha, layer, count, divide=False)
        return self._mask_mix(node, spec, values, original, core, layer, select, count)

    def _premult(self, node, ev, alpha, layer: str, count: int, divide: bool) -> NodeEval:
        premult_by = specs.get("PremultBy")
        select = (1, 1, 1, 0) if layer == MAIN else chans.first_components(min(count, 3))
        values = premult_by.defaults() | {"divide": divide, "select": tuple(map(float, select))}
        return self._make(node, premult_by, values, [ev, alpha], layer, role="premult")

    def _mask_mix(self, node, spec, values, original, core, layer, select, count) -> NodeEval:
        """``core`` limited to the selected channels, the mask and ``mix``; ``core`` itself
        where none of them changes anything."""
        mask_node = node.input(MASK_INPUT) if MASK_INPUT in node.input_names else None
        mix = 1.0 if spec.own_mix() else float(values.get("mix", 1.0))
        partial = not chans.covers_layer(select, count)
        if mask_node is None and mix == 1.0 and not partial:
            return core
        if mask_node is None and mix == 1.0 and core.spec is spec and core.spec.kind is Kind.POINT:
            packed = spec.pack_selected(core.values, self.ctx, select)
            if packed is not None:  # the kernel keeps the other channels itself
                return replace(
                    core,
                    params=tuple(float(v) for v in packed),
                    hash=_hash([core.hash, "select", select]),
                )
        mask = None
        component = 3
        if mask_node is not None:
            try:
                mask_layer, component = chans.find_channel(
                    self.layers(mask_node), values["mask_channel"], "the Mask input"
                )
            except ValueError as error:
                raise RenderError(node.name, f"mask_channel: {error}") from None
            mask = self.eval(mask_node, mask_layer)
        if original is None:  # nothing to mix with: the processed layer as it is
            original = self._black(node, spec, values)
        mask_mix = specs.get("MaskMix")
        mixed = mask_mix.defaults() | {
            "select": tuple(float(s) for s in select),
            "mix": mix,
            "mask_component": component,
            "invert_mask": bool(values.get("invert_mask")),
            "use_mask": mask is not None,
        }
        return self._make(node, mask_mix, mixed, [original, core, mask], layer, role="mask")

    # -- channel nodes -------------------------------------------------------------------

    def _routed(self, node: Node, spec, values: dict, layer: str) -> NodeEval:
        names = spec.image_inputs()
        ups = [node.input(name) for name in names]
        if names and all(up is None for up in ups):
            raise RenderError(node.name, f"nothing connected to input {names[0]}")
        infos = [self.eval(up, MAIN).info if up else None for up in ups]
        layers, sources = self._call(node, spec.routing, values, infos)
        channels = dict(layers).get(layer)
        if channels is None:
            return self._black(node, spec, values)
        routed = self._route(node, ups, channels, sources, layer)
        if spec.is_maskable():
            original = self.eval(ups[0], layer) if ups[0] else None
            routed = self._mask_mix(node, spec, values, original, routed, layer, (1, 1, 1, 1), 4)
        if layer == MAIN and routed.info.layers != layers:
            routed = replace(routed, info=replace(routed.info, layers=layers))
        return routed

    def _route(self, node: Node, ups, channels, sources, layer: str) -> NodeEval:
        """The plane of ``channels`` built from ``sources`` (see NodeSpec.routing)."""
        picks = [sources[name] for name in channels]
        same = {(p[1], chans.layer_of(p[2])) for p in picks if p[0] == "in"}
        if len(same) == 1 and all(p[0] == "in" for p in picks):
            index, from_layer = next(iter(same))
            from_channels = dict(self.layers(ups[index])).get(from_layer, ())
            if tuple(p[2] for p in picks) == from_channels and len(channels) == len(from_channels):
                return self.eval(ups[index], from_layer)  # by reference
        planes: list[tuple[int, str]] = []
        slots = []
        for k in range(4):
            pick = picks[k] if k < len(picks) else ("const", 1.0 if k == 3 else 0.0)
            if pick[0] == "const":
                slots.append((-1, 0, float(pick[1])))
                continue
            if pick[0] == "op":
                slots.append((-1, 0, 0.0))  # filled by the ChannelOp below
                continue
            _, index, name = pick
            at = (index, chans.layer_of(name))
            if at not in planes:
                planes.append(at)
            component = dict(self.layers(ups[index]))[at[1]].index(name)
            slots.append((planes.index(at), component, 0.0))
        if not planes:  # only constants: the main input's layer gives the window
            first = next(i for i, up in enumerate(ups) if up is not None)
            planes.append((first, MAIN))
        shuffle = specs.get("ShufflePlane")
        values = shuffle.defaults()
        for k, (source, component, constant) in enumerate(slots):
            values |= {f"source{k}": source, f"component{k}": component, f"constant{k}": constant}
        inputs = [self.eval(ups[i], at) for i, at in planes] + [None] * (4 - len(planes))
        routed = self._make(node, shuffle, values, inputs, layer, role="route")
        for k, pick in enumerate(picks):
            if pick[0] == "op":
                routed = self._channel_op(node, ups, routed, pick, k, layer)
        return routed

    def _channel_op(self, node, ups, base: NodeEval, pick, component: int, layer: str):
        _, operation, (ia, a_name), (ib, b_name) = pick
        channel_op = specs.get("ChannelOp")
        found = []
        for index, name in ((ia, a_name), (ib, b_name)):
            try:
                at, k = chans.find_channel(self.layers(ups[index]), name, "the input")
            except ValueError as error:
                raise RenderError(node.name, str(error)) from None
            found.append((self.eval(ups[index], at), k))
        (a_ev, a_k), (b_ev, b_k) = found
        values = channel_op.defaults() | {
            "operation": operation,
            "a_component": a_k,
            "b_component": b_k,
            "out_component": component,
        }
        return self._make(node, channel_op, values, [base, a_ev, b_ev], layer, role="op")

    # -- records -------------------------------------------------------------------------

    def _make(
        self,
        node: Node,
        spec,
        values: dict,
        inputs: list[NodeEval | None],
        layer: str,
        info: ImageInfo | None = None,
        identity: Any = None,
        role: str = "",
    ) -> NodeEval:
        """A record of ``spec`` over ``inputs`` (the node's own kernel, or one the engine
        wraps it in: ``role`` says which, and enters the hash)."""
        extras: dict = {}
        if info is None:
            infos = [i.info if i else None for i in inputs]
            info = self._call(node, spec.data_window, values, infos, self.ctx)
        params: tuple[float, ...] = ()
        if spec.kind in (Kind.POINT, Kind.SOURCE):
            params = tuple(float(v) for v in self._call(node, spec.pack, values, self.ctx))
        hashed = {
            k: spec.param(k).to_json(v) for k, v in values.items() if spec.param(k).affects_pixels
        }
        parts = [
            spec.type_name,
            spec.version,
            hashed,
            [i.hash if i else None for i in inputs],
            identity,
            self.ctx.ocio_config,
            self.ctx.working_space,
        ]
        if layer != MAIN or role:
            parts.append(["layer", layer, role])
        context = self._call(node, spec.context_key, values, self.ctx)
        if context is not None:  # pixels that depend on the frame or format themselves
            parts.append(["context", context])
        # proxy 1 keeps the hashes it always had; other levels add theirs
        digest = _hash(parts if self.ctx.proxy == 1 else [*parts, ["proxy", self.ctx.proxy]])
        if identity is not None:
            extras["identity"] = identity
            extras["layer"] = layer
            if self.ctx.proxy != 1:  # the full-resolution decode of the same file
                extras["full_hash"] = _hash(parts)
        return NodeEval(node, spec, values, inputs, info, digest, params, extras)

    def _as_matrix(self, ev: NodeEval) -> NodeEval:
        """A colour processor that is one RGB matrix (a change of primaries) as a ColorMatrix.

        Both backends then run it as a point op fused with its neighbours instead of a
        pass of its own through OCIO; the pixels agree with OCIO's processor to float
        rounding (tests/engine/test_color.py). The node keeps its name and hash.
        """
        rows = color.matrix_rows(ocio_processor(ev, self.ctx))
        if rows is None:
            return ev
        matrix = specs.get("ColorMatrix")
        values = matrix.defaults() | dict(zip(("row0", "row1", "row2"), rows))
        params = tuple(float(v) for v in matrix.pack(values, self.ctx))
        return replace(ev, spec=matrix, values=values, params=params)

    def _black(self, node: Node, spec, values) -> NodeEval:
        info = ImageInfo(self.ctx.script_format, EMPTY)
        return NodeEval(node, spec, values, [], info, _hash(["black"]), ())

    @staticmethod
    def _call(node: Node, func, *args):
        try:
            return func(*args)
        except RenderError:
            raise
        except (ValueError, ZeroDivisionError, KeyError, TypeError, OSError) as error:
            raise RenderError(node.name, str(error) or type(error).__name__) from None
