// name: doctor_patients_also_at_pharmacy
// description: Patients of a doctor who also have claims at a given pharmacy, with their visit counts and pharmacy reimbursement
// param: doctor_id string
// param: pharmacy_id string
MATCH (:Doctor {doctor_id: $doctor_id})<-[:BY_DOCTOR]-(dc:Claim)<-[:HAS_CLAIM]-(p:Patient)
WITH p, count(DISTINCT dc) AS doctor_claims
MATCH (p)-[:HAS_CLAIM]->(pc:Claim)-[:TREATED_AT]->(:Pharmacy {institution_id: $pharmacy_id})
WITH p, doctor_claims, count(DISTINCT pc) AS pharmacy_claims,
     sum(pc.reimbursed_amount) AS pharmacy_reimbursed
RETURN p.person_id AS person_id, p.name AS name, doctor_claims, pharmacy_claims,
       round(pharmacy_reimbursed, 2) AS pharmacy_reimbursed
ORDER BY pharmacy_claims DESC, person_id
