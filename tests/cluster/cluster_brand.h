/*
 * relay-cluster's cases about what a brand puts in the shared store:
 * directories and orders across nodes, and what a NATS publisher who is
 * not the brand puts where the nodes read them (cluster_brand_test.c).
 */
#ifndef PARLEY_CLUSTER_BRAND_H
#define PARLEY_CLUSTER_BRAND_H

void test_directory(void);
void test_directory_reconnect(void);
void test_orders(void);
void test_forged_orders(void);
void test_forged_directory(void);

#endif
