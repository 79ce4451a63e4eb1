export * from "./flaky";
export * from "./workspace";
