// SPDX-License-Identifier: GPL-2.0
/*
 * ctxmig model registry.  Adding a model: its own files, and one line
 * here (plus its object in the Makefile and host.mk).
 */
#include <linux/kernel.h>
#include <linux/string.h>

#include "ctxmig_gpu.h"
#include "ctxmig_model.h"

static const struct ctxmig_model *const ctxmig_models[] = {
	&ctxmig_amd_gfx9_model,
	&ctxmig_amd_gfx12_model,
	&ctxmig_intel_gen12_model,
	&ctxmig_nv_ampere_model,
	&ctxmig_nv_hopper_model,
};

/**
 * ctxmig_model_find() - the model with an &enum ctxmig_model_id number
 * @id: model number, e.g. from a stream preamble.
 *
 * Return: the model, or NULL if this build has none of that number.
 */
const struct ctxmig_model *ctxmig_model_find(u32 id)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ctxmig_models); i++)
		if (ctxmig_models[i]->id == id)
			return ctxmig_models[i];
	return NULL;
}

/**
 * ctxmig_model_lookup() - the model with a name
 * @name: e.g. "amd-gfx9".
 *
 * Return: the model, or NULL.
 */
const struct ctxmig_model *ctxmig_model_lookup(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ctxmig_models); i++)
		if (!strcmp(ctxmig_models[i]->name, name))
			return ctxmig_models[i];
	return NULL;
}

/**
 * ctxmig_model_at() - the registered models, by index
 * @i: 0 for the first.
 *
 * Return: the model, or NULL past the last.
 */
const struct ctxmig_model *ctxmig_model_at(unsigned int i)
{
	return i < ARRAY_SIZE(ctxmig_models) ? ctxmig_models[i] : NULL;
}
