/** The options of armkit bench crypto, shared by its three ways to measure (saved outputs, the board, the guest). */
export interface BenchCryptoOptions {
  parse?: string[];
  compare?: string[];
  openssl?: string;
  engine?: string;
  algo?: string;
  seconds?: string;
  guest?: string;
  json?: boolean;
  markdown?: boolean;
  chart?: string;
  out?: string;
  dryRun?: boolean;
  verbose?: boolean;
}
