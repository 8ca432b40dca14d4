"""Learning rules of the seed papers that run on weight stores (float weights or crossbar tiles).

Subpackages: :mod:`memsim.rules.online` (e-prop / block-diagonal RTRL and hybrid global-local
plasticity in recurrent spiking networks).
"""

__all__: list[str] = []
