"""Words for recognising people in a post: common given names, and capitalised words that are
not names.

The given names are the common ones across the UK's generations and communities (ONS, NRS and
NISRA baby-name lists from the 1930s to the 2020s, and names common in the UK's South Asian,
African, Caribbean, Polish and Irish communities). A name not listed still counts when its shape
says it is one: after Mr or Mrs, after "baby" or "little", or with an age ("Hamza, 15,"). Names
that are also everyday words and start sentences ("May", "June", "Will", "Grace" as a word)
are listed only where the other word around them settles it: a given name here needs a
surname, an age or a place beside it to make anyone identifiable.

Past the hand-kept list, ``is_given_name`` also knows the first names of gender-guesser's
dictionary (about 48,000 names by country, shipped in the package, read offline): every name
it records in Great Britain or Ireland, however rare ("Ffion", "Dewi", "Eilidh"), and the
commoner names of Poland, Turkey, the Arab world and Iran, China, India and elsewhere
("Tomasz", "Mehmet", "Pradeep"). A hand list can never keep up with the names patients have;
the dictionary does, and the shapes around a name still decide whether anyone is identifiable.
"""

from __future__ import annotations

from importlib.resources import files

_GIVEN_NAMES = """
    aaliyah aaron abbie abby abdul abdullah abigail abu ada adam adebayo adele adrian adwoa
    afia agata agnes agnieszka ahmad ahmed aidan aiden aileen ailsa aimee aisha aishah alan
    alana alastair albert alberto alec aleksandra alesha alex alexa alexander alexandra alexis
    alfie alfred ali alice alicia alison alistair allan allison ally alma alys amal amanda
    amara amber amelia amelie amir amira amit amna amy ana anas andrea andreea andrew andy
    aneesa angela angharad angus anika anil anita anjali ann anna annabel annabelle anne
    annette annie anthony antonio anwar anya archie ari arjun arlo arnold arran arthur arya
    asha ashley ashton asif aslam astrid audrey aurora austin ava avery awais ayaan ayesha
    ayla aziz babajide balbir baljit barbara barney barry basia beatrice beatrix becky
    belinda bella ben benjamin bernard bernadette beryl beth bethan bethany betty beverley
    bilal bill billie billy blessing bob bobby bogdan bonnie brandon brenda brendan brian
    bridget brooke bruce bryony caitlin callum calum calvin cameron camilla cara carl carla
    carly carmen carol caroline carolyn carys cassie catherine cathy cecilia cerys chantelle
    charles charlie charlotte chelsea cheryl chidi chinedu chioma chloe chris christina
    christine christopher ciara cieran claire clara clare claudia clifford clive colin colm
    conor connie connor constance craig cristina cyril daisy dale damian damien dan dana
    daniel daniela danielle danny daphne darren darryl dave david dawn dean deborah debbie
    declan deepa deepak dennis denise derek desmond diana diane dianne dilys dimitri dina
    dominic donald donna doreen doris dorothy dougie douglas duncan dylan eamon eddie edith
    edna edward edwin efua eileen elaine eleanor elena eli elif elijah elin elise eliza
    elizabeth ella elle ellie elliot elliott ellis elsie emeka emily emilia emma emmanuel
    enid enzo eric erin ernest esme esther ethan ethel eugene eva evan evelyn evie ewan
    ezra faisal farah farhan fatima fatma faye felicity felix fergus fiona finlay finley finn
    fionn florence francesca frances francis frank franklin fraser freddie freddy frederick
    freya gail gareth garry gary gavin gemma geoffrey george georgia georgina gerald
    geraldine gerard gerry gethin gillian gina glen glenda glenn gloria glyn gordon graeme
    graham grace gracie grant greg gregor gregory gurdeep gurpreet gwen gwyneth habib hafsa
    hamish hamza hana hannah harold harper harriet harrison harry harvey hassan hayden
    hayley hazel heather hector heidi helen helena henry herbert hetty hilary hilda hollie
    holly howard hugh hugo humza huw hyacinth iain ian ibrahim ida idris ifeoma ifor imogen
    imran ines ingrid iqbal irene iris isaac isabel isabella isabelle isaiah isha isla
    isobel ismail ivan ivy jacek jack jackie jackson jacob jacqueline jade jagdeep jake james
    jamie jan jana jane janet janice jasmin jasmine jason jasper javed jay jayden jean jeff
    jeffrey jemima jenna jennifer jenny jeremy jess jessica jill jim jimmy jo joan joanna
    joanne jodie joe joel joey john johnny jon jonathan jordan joseph josephine josh joshua
    joy joyce juan jude judith judy julia julian julie justin kai kamal kamala karen karim
    karl kasia kate katherine kathleen kathryn kathy katie katy kay kayla keira keith kelly
    kelvin ken kenneth kerry kevin khadija kieran kim kirsty kirsten kofi kwame kyle lachlan
    laila lara laura lauren layla leah lee leighton leila lena lenny leo leon leonard leslie
    lewis lexi liam lily lilly linda lindsay lindsey lisa liz lizzie logan lois lola lorna
    lorraine louie louis louisa louise luca lucas lucy luis luke lydia lynn lynne mabel
    maddie madeleine madison mae magda magdalena maggie mahmood maisie maisy malcolm malik
    mandy manjit manpreet marcus margaret margo maria mariam marian marie marilyn marion
    mark marlon marsha martha martin martyn mary maryam mason matilda matt matthew maureen
    max maxine maya megan mehmet mel melanie melissa mercy mia michael michaela michal
    michelle mick mike mila miles millie mo mohamed mohammad mohammed mohammud moira molly
    mona morag morgan moses muhammad muna mustafa myra nadia naomi nasir natalia natalie
    natasha nathan nathaniel navdeep neha neil nell nellie nia niall nicholas nick nicky
    nicola nicole nigel nikhil nina noah noel nora norah norma norman nuala obi oisin olga
    oliver olivia ollie olu oluwaseun omar oscar owen paddy paige pamela paolo parveen patricia
    patrick paul paula pauline pawel pearl peggy penny percy peter petra phil philip
    phillip phoebe phyllis piotr pippa polly poppy precious priya priyanka rachael rachel
    rafael rahul raj rajesh ralph rana rani rashid ravi ray raymond rebecca reece reggie
    reuben rhiannon rhian rhys ria richard rita rob robbie robert roberta robyn rocco rohan
    ronald ronan ronnie rory rosa rosalind rose rosemary rosie ross rowan roxanne roy ruby
    rupert ruth ryan sadia sahil saima sally sam samantha samir samira samuel sana sandeep
    sandra sanjay sara sarah sasha saoirse scott seamus sean sebastian seren shabana shahid
    shanice shannon sharon shaun sheila shirley shona sian sidney sienna simon simran sinead
    siobhan sofia sonia sophia sophie spencer stacey stan stanley stefan stella stephanie
    stephen steve steven stewart stuart sue summer sunil susan suzanne sylvia tahir tallulah
    tamara tanya tara tariq teddy terence teresa terri terry tess tessa theo theodore
    theresa thomas tia tim timothy tina toby tom tommy toni tony tracey tracy trevor tyler
    una usman valerie vanessa vera veronica vicky victor victoria vikram vince vincent
    violet vivian vivienne wanda wayne wendy wilfred william willow winifred winston wojciech
    xavier yasmin yusuf yvonne zac zach zachary zain zainab zak zara zeynep zoe zofia zuzanna
"""
GIVEN_NAMES = frozenset(_GIVEN_NAMES.split())

# Columns of the dictionary's frequency table (1 = rare to D = extremely common).
_UK_COLUMNS = slice(30, 32)  # Great Britain, Ireland
_COMMUNITY_COLUMNS = (53, 76, 77, 78, 79, 80, 84)  # Poland, Turkey, Arabia/Persia, ... other
_COMMON = frozenset("3456789ABCD")  # elsewhere only names at least this common: fewer oddities


_ALL_GIVEN_NAMES: frozenset[str] | None = None


def is_given_name(word: str) -> bool:
    names = _ALL_GIVEN_NAMES if _ALL_GIVEN_NAMES is not None else _load_given_names()
    return word.lower() in names


def _load_given_names() -> frozenset[str]:
    """Read once, on the first name a post needs looked up (about half a second); a plain
    set look-up after that, as cheap as the hand list alone."""
    global _ALL_GIVEN_NAMES
    text = files("gender_guesser").joinpath("data/nam_dict.txt").read_text(encoding="latin-1")
    names = set()
    for line in text.splitlines():
        if line[:1] == "#" or line[29:30] == "+":  # "+" marks a sorting line, not a name
            continue
        elsewhere = {line[i] for i in _COMMUNITY_COLUMNS if i < len(line)}
        if line[_UK_COLUMNS].strip() or elsewhere & _COMMON:
            name = line[3:29].rstrip()
            if name.isascii() and name.isalpha():
                names.add(name.lower())
    _ALL_GIVEN_NAMES = GIVEN_NAMES | (frozenset(names) - NOT_NAMES)
    return _ALL_GIVEN_NAMES


# Capitalised words that are not a name even when they sit where one could: they start
# sentences, name days and months, places, buildings, services, teams and campaigns.
_NOT_NAME_WORDS = """
    a an the this that these those our your their my we you they he she it i its his her him
    them us me who what when where why how which here there all any each every some no not
    and or but so if then than as at by for from in into of off on onto out over to up with
    without after before since until about above across along around behind below beside
    between beyond during near through under via within
    get well soon thank thanks happy good great huge big lovely amazing brilliant fantastic
    wonderful congratulations congrats welcome well done proud pleased delighted thrilled
    sadly best warm warmest sending special shout please join come visit meet see say hello
    look do don't does did is are was were be been being have has had will would can could
    shall should may might must let make take give find keep call ring text book email read
    watch listen hear share follow like reply comment today tomorrow yesterday tonight
    morning afternoon evening night weekend week weeks month months year years day days
    monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december christmas easter eid diwali
    hanukkah ramadan new old best first last next free open closed now just also still
    nhs hospital hospitals infirmary general royal university community clinic clinics
    centre center surgery practice ward wards unit units department team teams service
    services trust board council borough county city district region health care social
    mental public primary medical nursing maternity children children's hospice home homes
    house hall court street road lane avenue park square place drive way crescent close
    gardens garden terrace row hill green bridge gate market high station airport harbour
    pier bay beach castle church chapel abbey cathedral school schools academy college
    library libraries museum gallery theatre cinema club institute centre's foundation
    society charity appeal campaign fund group network association alliance partnership
    awareness action research support week's day's month's
    accident emergency minor injuries injury world national international local regional
    north south east west northern southern eastern western central upper lower
    valley forest moor river loch lake isle island islands highlands lowlands
    kingdom united states england scotland wales ireland britain british scottish welsh
    irish english european
    ambulance fire police rescue army navy air force
    covid flu stroke cancer dementia heart kidney lung liver brain blood bone
    race life run walk swim ride fun fair fete show festival games cup final league
    award awards prize trophy star stars hero heroes champion champions
    pharmacy pharmacist doctor doctors nurse nurses sister matron midwife consultant
    surgeon professor prof dr mr mrs ms miss mx sir dame lord lady captain
    chief executive director chair officer manager lead head president governor
    estates finance facilities operations comms communications hr
    baby babies little tiny wee young dear
    bbc itv radio tv news breakfast tesco asda aldi lidl boots sainsbury's morrisons
    macmillan curie barnardo's oxfam unicef
    bank holiday holidays half term
    storm
    breast bowel cervical prostate lung skin eye eyes ear hearing dental dentist
"""
NOT_NAMES = frozenset(_NOT_NAME_WORDS.split())

# Words that, before or after a name, make that person one of the staff, a volunteer, a
# speaker or an official rather than a patient: "Staff Nurse Tom Reid", "Sarah Jones, our
# ward manager", "Radiographer Sam Cole".
_ROLE_WORDS = """
    nurse nurses sister matron midwife midwives doctor doctors dr consultant consultants
    surgeon surgeons registrar physician gp physio physios physiotherapist therapist
    radiographer sonographer dietitian dietician pharmacist technician technologist
    paramedic paramedics porter porters cleaner domestic housekeeper receptionist
    administrator secretary manager managers director directors officer officers executive
    chief head lead leader chair chairman chairwoman chairperson president governor trustee
    colleague colleagues volunteer volunteers student students trainee trainees apprentice
    apprentices worker workers assistant assistants practitioner practitioners specialist
    specialists scientist scientists engineer engineers councillor councillors cllr mayor
    provost minister mp msp ambassador champion presenter author speaker guest researcher
    researchers professor prof lecturer coordinator co-ordinator advisor adviser chaplain
    mascot teacher headteacher chef cook driver firefighter constable pc sergeant inspector
    dentist optometrist optician psychologist psychiatrist counsellor hcsw hca rn ceo cno
    cmo boss staff founder organiser host expert clinician clinicians anaesthetist
    obstetrician paediatrician radiologist pathologist oncologist cardiologist
    neurologist geriatrician haematologist health visitor visitors steward caretaker
    gardener electrician plumber joiner medic medics sponsor patron ranger warden
"""
ROLE_WORDS = frozenset(_ROLE_WORDS.split())
