/* graph_json.h — the per-layer configuration that checkpoints store in "clfer.graph", shared by
 * the checkpoint writer (src/io/checkpoint.c) and clfer_net_graph_json. */
#ifndef CLFER_GRAPH_JSON_H
#define CLFER_GRAPH_JSON_H

#include <cjson/cJSON.h>

#include "clfer/nn.h"

/* Adds node `node`'s configuration (kernel, stride, units, ...) and the output/features marks to
 * `layer`, an object that already holds name, type, inputs and shape. */
void clfer__graph_layer_config(cJSON *layer, const clfer_net_t *net, int node);

#endif
