import { checkInclusionProof, proveInclusion, ProofError, type InclusionProof } from './proof.ts';

/** A record's inclusion proof against the newest checkpoint, and what checking it said just now. */
export type CheckedProof =
  | { status: 'verified'; proof: InclusionProof }
  /** Newer than the newest checkpoint: the next checkpoint signs it. */
  | { status: 'not_signed_yet'; problem: string }
  | { status: 'failed'; problem: string; proof?: InclusionProof };

/** Builds the proof for record `seq` and checks it as a third party would, with the log's verifier key. */
export async function proveAndCheck(dir: string, seq: number, verifierKeyText: string): Promise<CheckedProof> {
  let proof: InclusionProof;
  try {
    proof = await proveInclusion(dir, seq);
  } catch (error) {
    if (!(error instanceof ProofError)) throw error;
    return error.code === 'not_signed_yet' ? { status: 'not_signed_yet', problem: error.message } : { status: 'failed', problem: error.message };
  }
  try {
    checkInclusionProof(proof, verifierKeyText);
  } catch (error) {
    if (!(error instanceof ProofError)) throw error;
    return { status: 'failed', problem: error.message, proof };
  }
  return { status: 'verified', proof };
}
