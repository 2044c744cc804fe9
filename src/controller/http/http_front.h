/* The controller's HTTP front end (docs/http.md): the KServe v2 / Open Inference Protocol REST
 * API on --http-port and Prometheus metrics on --metrics-port, served by H2O (HTTP/1.1 and
 * HTTP/2) on the controller's own libuv loop: no threads, no locks. apps/controller.c hands it
 * to controller_run_with. */
#ifndef CW_HTTP_FRONT_H
#define CW_HTTP_FRONT_H
#include "controller/frontend.h"

extern const struct controller_frontend http_frontend;

#endif
