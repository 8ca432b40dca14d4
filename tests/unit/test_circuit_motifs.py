"""Topology motifs: skip links, lateral links, balanced (crossbar-like) sparse layers."""

import numpy as np
import pytest

import memsim
from memsim.circuit.motifs import bipartite_layered, lateral_layered, skip_layered
from memsim.devices import preset
from memsim.errors import ParameterError

DEVICE = preset("pershin2011")


def names(net):
    return set(net.edge_names)


def layer(name):
    """0 for inputs, l for hidden layer l, 99 for outputs."""
    if name.startswith("in"):
        return 0
    if name.startswith("out"):
        return 99
    return int(name[1:].split("_")[0])


def edge_layers(net):
    return [(layer(net.node_names[a]), layer(net.node_names[b])) for a, b in net.edges]


@pytest.mark.parametrize("builder, key", [(skip_layered, "skip"), (lateral_layered, "lateral")])
@pytest.mark.parametrize("connectivity", [1.0, 0.6])
def test_without_extra_links_the_motif_is_the_layered_net_of_the_same_seed(builder, key,
                                                                           connectivity):
    for seed in range(5):
        motif = builder([3, 5, 4, 2], device=DEVICE, connectivity=connectivity, seed=seed,
                        **{key: 0.0})
        plain = memsim.layered([3, 5, 4, 2], device=DEVICE, connectivity=connectivity,
                               seed=seed)
        assert names(motif) == names(plain)
        assert [motif.node_names[i] for i in motif.inputs] == \
            [plain.node_names[i] for i in plain.inputs]
        assert [motif.node_names[i] for i in motif.outputs] == \
            [plain.node_names[i] for i in plain.outputs]


def test_skip_links_join_inputs_to_outputs_with_the_stated_probability():
    full = skip_layered([4, 8, 3], device=DEVICE, skip=1.0)
    skips = {n for n in full.edge_names if n.startswith("in") and "-out" in n}
    assert skips == {f"in{i}-out{j}" for i in range(4) for j in range(3)}
    assert full.n_edges == 4 * 8 + 8 * 3 + 12
    # the layered part is unchanged by the skip draws (drawn first)
    part = skip_layered([4, 8, 3], device=DEVICE, skip=0.3, connectivity=0.5, seed=7)
    plain = memsim.layered([4, 8, 3], device=DEVICE, connectivity=0.5, seed=7)
    assert names(plain) <= names(part)
    # frequency over 200 nets x 12 pairs: binomial sd sqrt(.3 .7 / 2400) = 0.0094; 5 sd
    count = sum(skip_layered([4, 8, 3], device=DEVICE, skip=0.3, seed=s).n_edges - 4 * 8 - 8 * 3
                for s in range(200))
    assert abs(count / 2400 - 0.3) < 5 * 0.0094
    assert all(a == 0 and b == 99 for a, b in edge_layers(full) if (a, b) not in {(0, 1),
                                                                                 (1, 99)})


def test_lateral_links_stay_inside_hidden_layers_and_point_to_the_higher_index():
    net = lateral_layered([2, 4, 3, 2], device=DEVICE, lateral=1.0)
    lateral = [(net.node_names[a], net.node_names[b]) for (a, b), (la, lb)
               in zip(net.edges, edge_layers(net), strict=True) if la == lb]
    assert len(lateral) == 6 + 3  # every pair of the 4-node and of the 3-node layer
    for a, b in lateral:
        assert a.split("_")[0] == b.split("_")[0] and a.startswith("h")
        assert int(a.split("_")[1]) < int(b.split("_")[1])
    assert all(la <= lb for la, lb in edge_layers(net))  # everything else points forward


@pytest.mark.parametrize("sizes, degree", [([4, 8, 4], 2), ([5, 7, 3], 3), ([8, 16, 16, 8], 5),
                                           ([3, 6, 2], 1)])
def test_bipartite_layers_have_the_stated_degree_and_balanced_fan_out(sizes, degree):
    for seed in range(4):
        net = bipartite_layered(sizes, device=DEVICE, degree=degree, seed=seed)
        fan_in = np.bincount(net.edges[:, 1], minlength=net.n_nodes)
        fan_out = np.bincount(net.edges[:, 0], minlength=net.n_nodes)
        by_layer = {}
        for k, n in enumerate(net.node_names):
            by_layer.setdefault(layer(n), []).append(k)
        order = sorted(by_layer)
        for prev, cur in zip(order[:-1], order[1:], strict=True):
            d = min(degree, len(by_layer[prev]))
            assert (fan_in[by_layer[cur]] == d).all()
            out = fan_out[by_layer[prev]]
            assert out.max() - out.min() <= 1
        assert all(b == order[order.index(a) + 1] for a, b in edge_layers(net))


def test_bipartite_degree_at_the_width_is_the_fully_connected_net():
    net = bipartite_layered([3, 4, 2], device=DEVICE, degree=10, seed=0)
    assert names(net) == names(memsim.layered([3, 4, 2], device=DEVICE))


def test_motifs_are_deterministic_in_their_seed():
    for build, kw in ((skip_layered, {"skip": 0.5, "connectivity": 0.7}),
                      (lateral_layered, {"lateral": 0.5}), (bipartite_layered, {"degree": 2})):
        a = build([4, 8, 4], device=DEVICE, seed=11, **kw)
        b = build([4, 8, 4], device=DEVICE, seed=11, **kw)
        assert a.edge_names == b.edge_names
        others = {build([4, 8, 4], device=DEVICE, seed=s, **kw).edge_names for s in range(6)}
        assert len(others) > 1  # the seed matters


def test_bad_arguments_raise_parameter_errors():
    with pytest.raises(ParameterError, match="sizes"):
        skip_layered([2, 2], device=DEVICE)
    with pytest.raises(ParameterError, match="sizes"):
        lateral_layered([2, 0, 2], device=DEVICE)
    with pytest.raises(ParameterError, match="sizes"):
        bipartite_layered([2], device=DEVICE, degree=1)
    with pytest.raises(ParameterError, match="skip"):
        skip_layered([2, 4, 2], device=DEVICE, skip=1.5)
    with pytest.raises(ParameterError, match="lateral"):
        lateral_layered([2, 4, 2], device=DEVICE, lateral=-0.1)
    with pytest.raises(ParameterError, match="connectivity"):
        skip_layered([2, 4, 2], device=DEVICE, connectivity=0.0)
    with pytest.raises(ParameterError, match="degree"):
        bipartite_layered([2, 4, 2], device=DEVICE, degree=0)
