/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ctxmig: the models this build emulates.  Each is defined in its own
 * file; ctxmig_model.c lists them.
 */
#ifndef _CTXMIG_MODEL_H_
#define _CTXMIG_MODEL_H_

#include "ctxmig_gpu_types.h"

extern const struct ctxmig_model ctxmig_amd_gfx9_model;
extern const struct ctxmig_model ctxmig_amd_gfx12_model;
extern const struct ctxmig_model ctxmig_intel_gen12_model;
extern const struct ctxmig_model ctxmig_nv_ampere_model;
extern const struct ctxmig_model ctxmig_nv_hopper_model;

#endif /* _CTXMIG_MODEL_H_ */
