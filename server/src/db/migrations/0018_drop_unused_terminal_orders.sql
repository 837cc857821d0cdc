DROP TABLE "terminal_orders" CASCADE;
