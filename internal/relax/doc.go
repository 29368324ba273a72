// Package relax implements predictive-coding inference on a model.Graph:
// value nodes, prediction errors, energy, inference learning (IL), Z-IL in
// its sequential and parallel schedules, and Fa-Z-IL.
//
// Notation (PC-SPEC.md §1), for a batch of B samples:
//
//	x_v    value node of vertex v (B×n_v); x_0 is the input, clamped
//	mu_v   prediction f_v(x_parent; θ_v)
//	eps_v  x_v − mu_v for hidden vertices; for the output, clamped to the
//	       target, eps_L = −∂ℓ/∂mu_L (y − mu_L for mse, y − softmax(mu_L) for ce)
//	F      Σ_hidden ½‖eps_v‖² + ℓ(mu_L, y), per sample; the batch objective
//	       is its mean
//	level  distance of a vertex to the output (output = 0)
//
// Value-node steps use each sample's own ∂F/∂x (not divided by B):
//
//	∂F/∂x_v = eps_v − J_cᵀ·eps_c     (c the child of v; J_c its Jacobian w.r.t. x_v)
//
// Parameter gradients are batch means, −(1/B)·Σ_b J_θᵀ eps_v,b, computed by
// the same layer VJPs backprop uses, and handed to the same optimizer.
package relax
