"""Field tables of the Acumatica ``Default/24.200.001`` contract, generated from its OpenAPI file.

Generated (not hand-written) from Acumatica's own endpoint definition,
``systems/acumatica-openapi/Default_24.200.001.json`` (``components.schemas``), by walking the
closure of Customer, Vendor, Invoice, Payment, Bill, Account, Subaccount and
CompaniesStructure. Each schema maps to a space-separated list of ``Field:kind`` where kind
is the value-object type of the field:

- ``str`` StringValue · ``dec`` DecimalValue/DoubleValue · ``int`` Int/Short/Long/ByteValue ·
  ``bool`` BooleanValue · ``dt`` DateTimeValue · ``guid`` GuidValue
- ``obj:Schema`` a linked entity (a nested object) · ``list:Schema`` a detail array

The base ``Entity`` properties (``id``, ``rowNumber``, ``note``, ``custom``, ``error``,
``files``) are common to every schema and are not repeated here. To regenerate: for each
schema take the ``properties`` of its non-``$ref`` ``allOf`` member in file order; a ``$ref``
to a ``*Value`` schema gives the scalar kind, any other ``$ref`` gives ``obj:``, an array
gives ``list:`` of its ``items`` ``$ref``; then visit every ``obj:``/``list:`` target.
"""

from __future__ import annotations

from typing import Final

RAW_SCHEMAS: Final[dict[str, str]] = {
    "Customer": (
        "AccountRef:str ApplyOverdueCharges:bool Attributes:list:AttributeValue "
        "AutoApplyPayments:bool BAccountID:int BillingAddressOverride:bool "
        "BillingContact:obj:Contact BillingContactOverride:bool "
        "Contacts:list:CustomerContact CreatedDateTime:dt "
        "CreditVerificationRules:obj:CreditVerificationRules CurrencyID:str "
        "CurrencyRateType:str CustomerClass:str CustomerID:str CustomerCategory:str "
        "CustomerName:str Email:str EnableCurrencyOverride:bool EnableRateOverride:bool "
        "EnableWriteOffs:bool FOBPoint:str LastModifiedDateTime:dt LeadTimedays:int "
        "LocationName:str MainContact:obj:Contact MultiCurrencyStatements:bool "
        "OrderPriority:int ParentRecord:str "
        "PaymentInstructions:list:BusinessAccountPaymentInstructionDetail "
        "PriceClassID:str PrimaryContact:obj:Contact PrimaryContactID:int "
        "PrintDunningLetters:bool PrintInvoices:bool PrintStatements:bool "
        "ResidentialDelivery:bool Salespersons:list:CustomerSalesPerson "
        "SaturdayDelivery:bool SendDunningLettersbyEmail:bool SendInvoicesbyEmail:bool "
        "SendStatementsbyEmail:bool ShippingAddressOverride:bool ShippingBranch:str "
        "ShippingContact:obj:Contact ShippingContactOverride:bool ShippingRule:str "
        "ShippingTerms:str ShippingZoneID:str ShipVia:str StatementCycleID:str "
        "StatementType:str Status:str TaxRegistrationID:str TaxZone:str Terms:str "
        "WarehouseID:str WriteOffLimit:dec RestrictVisibilityTo:str CreditLimit:dec "
        "NoteID:guid EntityUsageType:str TaxExemptionNumber:str IsGuestCustomer:bool"
    ),
    "Vendor": (
        "AccountRef:str APAccount:str APSubaccount:str Attributes:list:AttributeValue "
        "CashAccount:str Contacts:list:CustomerContact CreatedDateTime:dt "
        "CurrencyID:str CurrencyRateType:str EnableCurrencyOverride:bool "
        "EnableRateOverride:bool F1099Box:str F1099Vendor:bool FATCA:bool FOBPoint:str "
        "ForeignEntity:bool LandedCostVendor:bool LastModifiedDateTime:dt "
        "LeadTimedays:int LegalName:str LocationName:str MainContact:obj:Contact "
        "MaxReceipt:dec MinReceipt:dec ParentAccount:str PaymentBy:str "
        "PaymentInstructions:list:BusinessAccountPaymentInstructionDetail "
        "PaymentLeadTimedays:int PaymentMethod:str PaySeparately:bool "
        "PrimaryContact:obj:Contact PrintOrders:bool ReceiptAction:str "
        "ReceivingBranch:str RemittanceAddressOverride:bool "
        "RemittanceContact:obj:Contact RemittanceContactOverride:bool "
        "SendOrdersbyEmail:bool ShippingContactOverride:bool "
        "ShippingAddressOverride:bool ShippingContact:obj:Contact ShippingTerms:str "
        "ShipVia:str Status:str TaxCalculationMode:str TaxRegistrationID:str "
        "TaxZone:str Terms:str ThresholdReceipt:dec VendorClass:str VendorID:str "
        "VendorIsLaborUnion:bool VendorIsTaxAgency:bool VendorName:str Warehouse:str"
    ),
    "Invoice": (
        "Amount:dec ApplicationsCreditMemo:list:InvoiceApplicationsCreditMemo "
        "ApplicationsDefault:list:InvoiceApplicationsDefault Balance:dec "
        "BillingPrinted:bool BillToContact:obj:DocContact BillToContactOverride:bool "
        "CreatedDateTime:dt Customer:str CustomerOrder:str Date:dt Description:str "
        "Details:list:InvoiceDetail DiscountDetails:list:InvoiceDiscountDetail "
        "DueDate:dt Hold:bool LastModifiedDateTime:dt LinkARAccount:str LinkBranch:str "
        "LocationID:str PostPeriod:str Project:str ReferenceNbr:str Status:str "
        "ShipToContact:obj:DocContact ShipToContactOverride:bool "
        "TaxDetails:list:InvoiceTaxDetail IsTaxValid:bool TaxTotal:dec Terms:str "
        "Type:str"
    ),
    "Payment": (
        "ApplicationDate:dt ApplicationHistory:list:PaymentApplicationHistoryDetail "
        "AppliedToDocuments:dec Branch:str CardAccountNbr:int CashAccount:str "
        "Charges:list:PaymentCharge "
        "CreditCardProcessingInfo:list:CreditCardProcessingDetail CurrencyID:str "
        "CustomerID:str Description:str DocumentsToApply:list:PaymentDetail Hold:bool "
        "IsCCPayment:bool OrdersToApply:list:PaymentOrderDetail PaymentAmount:dec "
        "PaymentMethod:str PaymentRef:str ReferenceNbr:str Status:str Type:str "
        "LastModifiedDateTime:dt ProcessingCenterID:str SaveCard:bool "
        "CreditCardTransactionInfo:list:CreditCardTransactionDetail ExternalRef:str "
        "OrigTransaction:str BranchID:str CustomerLocationID:str IsNewCard:bool "
        "NoteID:guid AvailableBalance:dec AppliedToOrders:dec"
    ),
    "Bill": (
        "Amount:dec Applications:list:BillApplicationDetail ApprovedForPayment:bool "
        "Balance:dec BranchID:str CashAccount:str CurrencyID:str Date:dt "
        "Description:str Details:list:BillDetail DueDate:dt Hold:bool LocationID:str "
        "PostPeriod:str Project:str ReferenceNbr:str Status:str "
        "TaxDetails:list:BillTaxDetail TaxTotal:dec Terms:str Type:str Vendor:str "
        "VendorRef:str IsTaxValid:bool LastModifiedDateTime:dt"
    ),
    "Account": (
        "AccountCD:str AccountClass:str AccountGroup:str AccountID:int Active:bool "
        "CashAccount:bool ChartOfAccountsOrder:int ConsolidationAccount:str "
        "CreatedDateTime:dt CurrencyID:str Description:str LastModifiedDateTime:dt "
        "PostOption:str RequireUnits:bool RevaluationRateType:str Secured:bool "
        "TaxCategory:str Type:str UseDefaultSubaccount:bool"
    ),
    "Subaccount": (
        "Active:bool Description:str Secured:bool SubaccountCD:str SubaccountID:int"
    ),
    "CompaniesStructure": (
        "Results:list:CompaniesStructureDetail"
    ),
    "AttributeValue": (
        "AttributeID:str AttributeDescription:str IsActive:bool RefNoteID:guid "
        "Required:bool Value:str ValueDescription:str"
    ),
    "Contact": (
        "Active:bool Activities:list:ActivityDetail Address:obj:Address "
        "OverrideAccountAddress:bool AddressValidated:bool Attention:str "
        "Attributes:list:AttributeValue BusinessAccount:str "
        "Campaigns:list:CampaignDetail Cases:list:CaseDetail CompanyName:str "
        "ContactClass:str ContactID:int ContactMethod:str ConvertedBy:str "
        "DateOfBirth:dt DisplayName:str DoNotCall:bool DoNotEmail:bool DoNotFax:bool "
        "DoNotMail:bool Duplicate:str DuplicateFound:bool "
        "Duplicates:list:ContactDuplicateDetail Email:str Fax:str FaxType:str "
        "FirstName:str Gender:str Image:str JobTitle:str LanguageOrLocale:str "
        "LastIncomingActivity:dt LastModifiedDateTime:dt LastName:str "
        "LastOutgoingActivity:dt MaritalStatus:str "
        "MarketingLists:list:MarketingListDetail MiddleName:str NoMarketing:bool "
        "NoMassMail:bool Notifications:list:ContactNotification "
        "Opportunities:list:OpportunityDetail Owner:str OwnerEmployeeName:str "
        "ParentAccount:str Phone1:str Phone1Type:str Phone2:str Phone2Type:str "
        "Phone3:str Phone3Type:str QualificationDate:dt Reason:str "
        "Relations:list:RelationDetail RoleAssignments:list:BCRoleAssignment Source:str "
        "SourceCampaign:str SpouseOrPartnerName:str Status:str Synchronize:bool "
        "Title:str Type:str UserInfo:obj:ContactUserInfo WebSite:str Workgroup:str "
        "WorkgroupDescription:str NoteID:guid FullName:str ExtRefNbr:str"
    ),
    "CustomerContact": (
        "Contact:obj:Contact ContactID:int LastModifiedDateTime:dt"
    ),
    "CreditVerificationRules": (
        "CreditDaysPastDue:int CreditLimit:dec CreditVerification:str FirstDueDate:dt "
        "OpenOrdersBalance:dec RemainingCreditLimit:dec UnreleasedBalance:dec"
    ),
    "BusinessAccountPaymentInstructionDetail": (
        "Description:str LocationID:int PaymentInstructionsID:str PaymentMethod:str "
        "Value:str"
    ),
    "CustomerSalesPerson": (
        "Commission:dec Default:bool LocationID:str LocationName:str Name:str "
        "SalespersonID:str"
    ),
    "InvoiceApplicationsCreditMemo": (
        "AmountPaid:dec Balance:dec Customer:str CustomerOrder:str Description:str "
        "DocType:str PostPeriod:str ReferenceNbr:str Status:str"
    ),
    "InvoiceApplicationsDefault": (
        "AmountPaid:dec Balance:dec CashDiscountTaken:dec DocType:str PaymentDate:dt "
        "ReferenceNbr:str Status:str"
    ),
    "DocContact": (
        "Attention:str BusinessName:str Email:str Phone1:str"
    ),
    "InvoiceDetail": (
        "Account:str Amount:dec Branch:str CalculateDiscountsOnImport:bool CostCode:str "
        "DiscountAmount:dec ExtendedPrice:dec InventoryID:str LastModifiedDateTime:dt "
        "LineNbr:int ProjectTask:str Qty:dec Subaccount:str Subitem:str "
        "TransactionDescription:str UnitPrice:dec UOM:str TaxCategory:str"
    ),
    "InvoiceDiscountDetail": (
        "Description:str DiscountableAmount:dec DiscountableQty:dec DiscountAmount:dec "
        "DiscountCode:str DiscountPercent:dec ExternalDiscountCode:str "
        "ManualDiscount:bool OrderNbr:str OrderType:str RetainedDiscount:dec "
        "SequenceID:str SkipDiscount:bool Type:str"
    ),
    "InvoiceTaxDetail": (
        "TaxableAmount:dec TaxAmount:dec TaxID:str TaxRate:dec"
    ),
    "PaymentApplicationHistoryDetail": (
        "AdjustedDocType:str AdjustedRefNbr:str AdjustingDocType:str "
        "AdjustingRefNbr:str AdjustmentNbr:int AdjustsVAT:bool AmountPaid:dec "
        "ApplicationPeriod:str Balance:dec BalanceWriteOff:dec BatchNbr:str "
        "CashDiscountBalance:dec CashDiscountDate:dt CashDiscountTaken:dec "
        "CurrencyID:str Customer:str CustomerOrder:str Date:dt Description:str "
        "DisplayDocType:str DisplayRefNbr:str DueDate:dt PostPeriod:str "
        "VATCreditMemo:str"
    ),
    "PaymentCharge": (
        "AccountID:str Amount:dec Description:str DocType:str EntryTypeID:str "
        "LineNbr:int RefNbr:str SubID:str"
    ),
    "CreditCardProcessingDetail": (
        "TransactionAmount:dec TransactionStatus:str"
    ),
    "PaymentDetail": (
        "AmountPaid:dec BalanceWriteOff:dec CashDiscountTaken:dec CustomerOrder:str "
        "Description:str DocLineNbr:int DocType:str ReferenceNbr:str "
        "WriteOffReasonCode:str"
    ),
    "PaymentOrderDetail": (
        "AppliedToOrder:dec OrderNbr:str OrderType:str"
    ),
    "CreditCardTransactionDetail": (
        "TranNbr:str TranType:str AuthNbr:str TranDate:dt ExtProfileId:str "
        "NeedValidation:bool OrigTranNbr:str ExpirationDate:dt CardType:str"
    ),
    "BillApplicationDetail": (
        "AmountPaid:dec Balance:dec DocType:str ReferenceNbr:str Status:str"
    ),
    "BillDetail": (
        "Account:str Amount:dec Branch:str CalculateDiscountsOnImport:bool CostCode:str "
        "Description:str ExtendedCost:dec InventoryID:str LCLineNbr:int LCNbr:str "
        "LCType:str NonBillable:bool POLine:int POOrderNbr:str POOrderType:str "
        "POReceiptLine:int POReceiptType:str POReceiptNbr:str Project:str "
        "ProjectTask:str Qty:dec Subaccount:str TaxCategory:str "
        "TransactionDescription:str UnitCost:dec UOM:str"
    ),
    "BillTaxDetail": (
        "TaxableAmount:dec TaxAmount:dec TaxID:str TaxRate:dec"
    ),
    "CompaniesStructureDetail": (
        "BaseCurrencyID:str BranchCountry:str BranchID:str BranchName:str "
        "BranchStatus:bool CompanyID:str CompanyName:str CompanyStatus:bool "
        "CompanyType:str"
    ),
    "ActivityDetail": (
        "Billable:bool Overtime:str BillableOvertime:str BillableTime:str Category:str "
        "CostCode:str CreatedDateTime:dt LastModifiedDateTime:dt CreatedByID:str "
        "NoteID:guid Owner:str Project:str ProjectTask:str RefNoteID:guid Released:bool "
        "StartDate:dt Status:str Summary:str TimeSpent:str Type:str WorkgroupID:str"
    ),
    "Address": (
        "AddressLine1:str AddressLine2:str City:str Country:str PostalCode:str "
        "State:str Validated:bool"
    ),
    "CampaignDetail": (
        "CampaignID:str CampaignName:str ContactID:int Stage:str"
    ),
    "CaseDetail": (
        "CaseID:str ClassID:str ClosingDate:dt DateReported:dt Estimation:str "
        "InitialResponse:str Owner:str Reason:str Severity:str Status:str Subject:str "
        "Workgroup:str"
    ),
    "ContactDuplicateDetail": (
        "BusinessAccount:str BusinessAccountName:str BusinessAccountType:str "
        "DisplayName:str Duplicate:str Email:str LastModifiedDate:dt Type:str"
    ),
    "MarketingListDetail": (
        "ContactID:int DynamicList:bool Format:str ListName:str MarketingListID:int "
        "Subscribed:bool"
    ),
    "ContactNotification": (
        "Active:bool Bcc:bool ClassID:str Description:str Format:str MailingID:str "
        "Module:str NotificationID:int Report:str Source:str"
    ),
    "OpportunityDetail": (
        "Currency:str DisplayName:str Estimation:dt Owner:str Probability:int Stage:str "
        "Status:str Subject:str Total:dec Workgroup:str"
    ),
    "RelationDetail": (
        "Account:str AddToCc:bool ContactDisplayName:str ContactID:int Document:guid "
        "DocumentTargetNoteIDDescription:str Email:str Name:str Primary:bool "
        "RelationID:int Role:str Type:str DocumentDate:dt"
    ),
    "BCRoleAssignment": (
        "RoleAssignmentID:int BAccountID:int ContactID:int LocationCD:str Role:str "
        "CreatedDateTime:dt LastModifiedDateTime:dt"
    ),
    "ContactUserInfo": (
        "GeneratePassword:bool Login:str Password:str Roles:list:ContactRoles "
        "Status:str UserType:str"
    ),
    "ContactRoles": (
        "RoleDescription:str RoleName:str Selected:bool UserType:int"
    ),
}
