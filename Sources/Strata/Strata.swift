// The `Strata` library product: one import for applications and the CLI. Each layer is its own
// module so the compiler enforces the layering (see Package.swift):
//   StrataCore -> StrataIO -> StrataCustomers -> StrataSegment.
@_exported import StrataCore
@_exported import StrataCustomers
@_exported import StrataIO
@_exported import StrataKernels
@_exported import StrataLinalg
@_exported import StrataPostgres
@_exported import StrataSegment
